/* The field app in the browser: outcomes queue on the phone and are sent when there is a
   connection (on load, on the `online` event, after each new one), each under a key made here,
   so that a resend is applied once by the server and answered with the same receipt.
   The queue belongs to the signed-in user (keyed by her id): another user of the same phone
   never sees or sends it. Nothing here is a safeguard: the server checks every rule. */
(function () {
  "use strict";

  var meta = function (name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  };
  var user = meta("user");
  var csrf = meta("csrf-token");
  var QUEUE = "proactive.queue." + user;
  var RESULTS = "proactive.results." + user;
  var PAGES = "proactive-pages";
  var sending = false;

  function load(name) {
    try { return JSON.parse(localStorage.getItem(name) || "[]"); } catch (e) { return []; }
  }
  function save(name, items) { localStorage.setItem(name, JSON.stringify(items)); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  var ZH = { delivered: "已送达", not_home: "不在家", refused: "拒收", moved: "已迁出", deceased: "已故", wrong_address: "地址有误" };

  function localTime(iso) {
    var d = new Date(iso);
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  /* The banner: what waits (since when, why), what the server refused (with its reason). */
  function show(note) {
    var box = document.getElementById("sync");
    if (!box || !user) { return; }
    var waiting = load(QUEUE);
    var refused = load(RESULTS).filter(function (r) { return r.result !== "applied"; });
    box.textContent = "";
    if (note) { box.appendChild(text("p", note)); }
    if (waiting.length) {
      box.appendChild(text("p", waiting.length + " 条记录保存在本机，待联网后自动发送" + (navigator.onLine ? "" : "（当前离线）")));
      var list = document.createElement("ul");
      waiting.forEach(function (r) {
        list.appendChild(text("li", "任务 " + r.task_id + "：" + (ZH[r.outcome] || r.outcome) + "，记录于 " + localTime(r.recorded_at) + (r.why ? "，" + r.why : "")));
      });
      box.appendChild(list);
    }
    if (refused.length) {
      box.appendChild(text("p", "以下记录未能生效，请处理："));
      var bad = document.createElement("ul");
      refused.forEach(function (r) {
        bad.appendChild(text("li", "任务 " + r.task_id + "：" + (ZH[r.outcome] || r.outcome) + "，" + r.message));
      });
      box.appendChild(bad);
      var clear = text("button", "知道了", "link");
      clear.type = "button";
      clear.addEventListener("click", function () { save(RESULTS, load(RESULTS).filter(function (r) { return r.result === "applied"; })); show(""); });
      box.appendChild(clear);
    }
    box.hidden = !(note || waiting.length || refused.length);
  }

  function remember(item, receipt) {
    var results = load(RESULTS);
    results.push({ key: item.key, task_id: item.task_id, outcome: item.outcome, result: receipt.result, message: receipt.message });
    save(RESULTS, results.slice(-20));
  }

  function hold(key, why) {
    save(QUEUE, load(QUEUE).map(function (r) { if (r.key === key) { r.why = why; } return r; }));
  }

  /* Send the queue in the order the outcomes were recorded; stop at the first failure of the
     connection or the session (the rest wait), never drop a record the server did not answer. */
  function flush() {
    if (sending || !user || !navigator.onLine) { show(""); return Promise.resolve(); }
    var queue = load(QUEUE).sort(function (a, b) { return a.recorded_at < b.recorded_at ? -1 : 1; });
    if (!queue.length) { show(""); return Promise.resolve(); }
    sending = true;
    var item = queue[0];
    return fetch("/api/outcomes", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(item)
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        hold(item.key, "登录已过期，请重新登录后自动发送");
        throw new Error("sign-in");
      }
      if (!response.ok && response.status !== 400) {
        hold(item.key, "服务器暂时无法处理（" + response.status + "），稍后重试");
        throw new Error("server");
      }
      return response.json().then(function (receipt) {
        save(QUEUE, load(QUEUE).filter(function (r) { return r.key !== item.key; }));
        if (response.status === 400) { receipt.result = "bad_request"; }
        remember(item, receipt);
        sending = false;
        return flush();
      });
    }).catch(function () {
      sending = false;
      show("");
    }).then(function () { sending = false; });
  }

  function queueOutcome(form, submitter) {
    var data = new FormData(form);
    var outcome = submitter && submitter.name === "outcome" ? submitter.value : data.get("outcome");
    var item = {
      key: newKey(),
      task_id: Number(form.getAttribute("data-task")),
      outcome: String(outcome),
      code: String(data.get("code") || ""),
      note: String(data.get("note") || ""),
      recorded_at: new Date().toISOString()
    };
    var queue = load(QUEUE);
    queue.push(item);
    save(QUEUE, queue);
    return item;
  }

  function onOutcome(event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("outcome") || !user) { return; }
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    var item = queueOutcome(form, event.submitter);
    show("已保存：任务 " + item.task_id + " " + (ZH[item.outcome] || item.outcome));
    flush().then(function () {
      var done = load(RESULTS).filter(function (r) { return r.key === item.key; })[0];
      if (done) {
        show(done.message);
        if (done.result === "applied") { setTimeout(function () { location.reload(); }, 600); }
        else { Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; }); }
      }
    });
  }

  /* Sign-out: say what still waits; the queue stays for this user's next sign-in. Cached pages
     go, so the next person on this phone never sees them. */
  function onLogout(event) {
    if (event.target.id !== "logout") { return; }
    var waiting = load(QUEUE).length;
    if (waiting && !window.confirm("还有 " + waiting + " 条记录未发送。退出后它们仍保存在本机，您下次登录时自动发送。确定退出？")) {
      event.preventDefault();
      return;
    }
    if (window.caches) { caches.delete(PAGES); }
  }

  /* Keep the day for the stairwell: the service worker fetches and keeps this list, tomorrow's
     and each visit's page while there is a connection. */
  function warmCache(registration) {
    if (!registration.active || !navigator.onLine || location.pathname !== "/day") { return; }
    var urls = ["/day", "/day?when=tomorrow"];
    Array.prototype.forEach.call(document.querySelectorAll("a.card"), function (a) { urls.push(a.getAttribute("href")); });
    registration.active.postMessage({ keep: urls });
  }

  function start() {
    document.addEventListener("submit", onOutcome);
    document.addEventListener("submit", onLogout);
    window.addEventListener("online", flush);
    window.addEventListener("offline", function () { show(""); });
    if (!user) { return; }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").then(function () {
        return navigator.serviceWorker.ready;
      }).then(warmCache).catch(function () { show("离线功能未能启用，联网时可正常使用。"); });
    } else {
      show("此浏览器不支持离线使用，请用系统浏览器或添加到主屏幕。");
    }
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().then(function (kept) {
        if (!kept && load(QUEUE).length) { show("本机存储可能被浏览器清理，请尽快联网发送待发记录。"); }
      });
    }
    flush();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
