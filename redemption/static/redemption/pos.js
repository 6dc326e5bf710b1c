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
  var status = document.getElementById("scan-status");
  var SCAN_INTERVAL = 150; // milliseconds between two looks at the picture: quick enough, and kind to a phone
  var stream = null;
  var starting = false;

  function say(text) {
    if (status) { status.textContent = text || ""; }
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  function fail() {
    starting = false;
    stop();
    say(button.dataset.failed);
  }

  // A detector is a function that returns a promise of the text it sees in the picture, or null.
  // The browser's own detector where it reads QR codes (Chrome on Android, macOS, ChromeOS); elsewhere the jsQR
  // library, loaded on the first scan only. The server turns the QR code's address into the voucher's code.
  function nativeDetector() {
    if (!window.BarcodeDetector || !window.BarcodeDetector.getSupportedFormats) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { return null; }
      var detector = new window.BarcodeDetector({
        formats: formats.filter(function (format) { return format === "qr_code" || format === "code_128"; })
      });
      return function () {
        return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      };
    }).catch(function () { return null; });
  }

  var library = null;
  function loadLibrary() {
    if (window.jsQR) { return Promise.resolve(); }
    if (!library) {
      library = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = button.dataset.fallback;
        script.onload = resolve;
        script.onerror = function () { library = null; reject(new Error("jsQR did not load")); };
        document.head.appendChild(script);
      });
    }
    return library;
  }

  function libraryDetector() {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return function () {
      return new Promise(function (resolve) {
        if (video.readyState < 2 || !video.videoWidth) { resolve(null); return; }
        // A frame of at most 640 pixels across is enough for a QR code held up to the camera.
        var scale = Math.min(1, 640 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var result = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        resolve(result && result.data ? result.data : null);
      });
    };
  }

  function fallbackDetector() {
    return loadLibrary().then(libraryDetector);
  }

  function scanWith(detect, native) {
    if (!stream) { return; }
    detect().then(function (text) {
      if (!stream) { return; }
      if (text) {
        code.value = text;
        stop();
        say("");
        document.getElementById("lookup-form").requestSubmit();
      } else {
        window.setTimeout(function () { scanWith(detect, native); }, SCAN_INTERVAL);
      }
    }, function () {
      // The browser's detector can fail on devices that announce it; the library then takes over. A failing
      // library ends the scan with a message rather than a camera left running.
      if (native) {
        fallbackDetector().then(function (next) { scanWith(next, false); }, fail);
      } else {
        fail();
      }
    });
  }

  button.addEventListener("click", function () {
    if (starting) { return; }
    if (stream) { stop(); say(""); return; }
    starting = true;
    say(button.dataset.starting);
    var detect = null;
    var native = false;
    // The detector first: if none can be had, the camera is never switched on.
    nativeDetector()
      .then(function (found) {
        native = Boolean(found);
        return found || fallbackDetector();
      })
      .then(function (ready) {
        detect = ready;
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      })
      .then(function (media) {
        starting = false;
        stream = media;
        video.srcObject = stream;
        video.hidden = false;
        var playing = video.play();
        if (playing && playing.catch) { playing.catch(function () { /* detection waits for frames */ }); }
        say(button.dataset.scanning);
        scanWith(detect, native);
      })
      .catch(fail);
  });

  // The camera goes off when the cashier leaves the page or switches to another app.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && stream) { stop(); say(""); }
  });
  window.addEventListener("pagehide", stop);
})();
