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
  if (!button || !video || !code || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  button.hidden = false;
  var stream = null;
  var status = document.getElementById("scan-status");

  function say(text) {
    if (status) { status.textContent = text || ""; }
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  function found(text) {
    code.value = text;
    stop();
    say("");
    document.getElementById("lookup-form").requestSubmit();
  }

  // The browser's own detector where there is one (Chrome on Android, macOS, ChromeOS); elsewhere the jsQR
  // library, loaded on the first scan only. Both read the QR code; the server turns its address into the code.
  function nativeDetector() {
    var detector = new window.BarcodeDetector();
    return function (done) {
      detector.detect(video).then(function (codes) { done(codes.length ? codes[0].rawValue : null); })
        .catch(function () { done(null); });
    };
  }

  function libraryDetector() {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return function (done) {
      if (video.readyState < 2 || !video.videoWidth) { done(null); return; }
      // A frame of at most 640 pixels across is enough for a QR code held up to the camera, and keeps a phone cool.
      var scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var result = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      done(result && result.data ? result.data : null);
    };
  }

  var library = null;
  function loadLibrary() {
    if (window.jsQR) { return Promise.resolve(); }
    if (!library) {
      library = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = button.dataset.fallback;
        script.onload = resolve;
        script.onerror = function () { library = null; reject(); };
        document.head.appendChild(script);
      });
    }
    return library;
  }

  function detector() {
    if ("BarcodeDetector" in window) { return Promise.resolve(nativeDetector()); }
    return loadLibrary().then(libraryDetector);
  }

  var starting = false;
  button.addEventListener("click", function () {
    if (starting) { return; }
    if (stream) { stop(); say(""); return; }
    starting = true;
    say(button.dataset.starting);
    var detect = null;
    // The detector first: if it cannot be had, the camera is never switched on.
    detector()
      .then(function (ready) {
        detect = ready;
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      })
      .then(function (media) {
        starting = false;
        stream = media;
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        say(button.dataset.scanning);
        function scan() {
          if (!stream) { return; }
          detect(function (text) {
            if (text) { found(text); } else { window.requestAnimationFrame(scan); }
          });
        }
        scan();
      })
      .catch(function () { starting = false; stop(); say(button.dataset.failed); });
  });
})();
