// The POS page works without this file; it adds a guard against double submits and the camera scanner.
(function () {
  "use strict";
  // A second click while the first submit is on its way does nothing (the server's idempotency key is the
  // real guard; this keeps the cashier from seeing an error for it).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    });
  });

  var amount = document.getElementById("amount");
  if (amount) {
    amount.focus();
    amount.select();
  }

  var button = document.getElementById("scan-button");
  var video = document.getElementById("scan-video");
  var code = document.getElementById("code");
  if (!button || !video || !code || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  button.hidden = false;
  var stream = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector();
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (media) {
      stream = media;
      video.srcObject = media;
      video.hidden = false;
      video.play();
      function scan() {
        if (!stream) { return; }
        detector.detect(video).then(function (found) {
          if (found.length) {
            code.value = found[0].rawValue;
            stop();
            document.getElementById("lookup-form").requestSubmit();
          } else {
            window.requestAnimationFrame(scan);
          }
        }).catch(function () { window.requestAnimationFrame(scan); });
      }
      scan();
    }).catch(function () { stop(); });
  });
})();
