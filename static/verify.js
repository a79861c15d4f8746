/* /verify with the phone's camera: jsQR reads the QR from the video and the form is sent as if
   the text had been pasted. Without a camera or JavaScript the page works by paste or upload. */
(function () {
  "use strict";
  function start() {
    var section = document.getElementById("camera");
    var video = document.getElementById("video");
    var field = document.getElementById("payload");
    var form = document.getElementById("verify-form");
    if (!section || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    section.hidden = false;
    document.getElementById("scan").addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        var canvas = document.createElement("canvas");
        var context = canvas.getContext("2d");
        (function look() {
          if (video.readyState === video.HAVE_ENOUGH_DATA) {
            canvas.width = video.videoWidth;
            canvas.height = video.videoHeight;
            context.drawImage(video, 0, 0, canvas.width, canvas.height);
            var image = context.getImageData(0, 0, canvas.width, canvas.height);
            var code = window.jsQR(image.data, image.width, image.height);
            if (code && code.data) {
              stream.getTracks().forEach(function (t) { t.stop(); });
              field.value = code.data;
              form.submit();
              return;
            }
          }
          requestAnimationFrame(look);
        })();
      }).catch(function () { section.appendChild(document.createTextNode("无法打开摄像头，请粘贴或上传。")); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
