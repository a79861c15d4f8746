"""Certificates: numbering, rendering to PDF, the signed QR payload and its keys, issuing,
revocation, verify and reissue."""
