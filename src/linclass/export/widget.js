/* linclass widget: draw a digit, see what a linear classifier makes of it. Vanilla JavaScript, no network.
 * A model of a dataset that is not drawn digits (data.drawing false: Fashion-MNIST) takes only its test images.
 *
 * Needs normalize.js (linclassCore) first. window.linclass.widgets[i] exposes each widget's state
 * (input: the 784 pixels the model sees, probabilities); window.linclass.input is the first one's.
 */
(function () {
  "use strict";
  if (window.linclass && window.linclass.start) { window.linclass.start(); return; }

  var core = linclassCore, FRAME = core.FRAME, CANVAS = 280, PEN = 26;
  var decode = core.decode, toGray = core.toGray, normalizeDigit = core.normalizeDigit;
  var classify = core.classify, loadModel = core.loadModel;

  // ---- drawing helpers
  function el(tag, cls, parent, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function smallCanvas(parent, cls, label) {
    var c = el("canvas", cls, parent);
    c.width = FRAME; c.height = FRAME;
    if (label) c.setAttribute("aria-label", label);
    return c;
  }

  /* Paint 784 values: grey (0 black .. 255 white), or diverging around 0 (red +, blue -, as the report's
     matplotlib figures) scaled by limit. */
  function paint(canvas, values, limit) {
    var ctx = canvas.getContext("2d"), image = ctx.createImageData(FRAME, FRAME), d = image.data;
    for (var i = 0; i < FRAME * FRAME; i++) {
      var r, g, b;
      if (values === null) { r = g = b = limit === undefined ? 0 : 255; }
      else if (limit === undefined) { r = g = b = Math.round(values[i]); }
      else {
        var v = Math.max(-1, Math.min(1, values[i] / limit)), m = Math.round(255 * (1 - Math.abs(v)));
        if (v >= 0) { r = 255; g = Math.round(255 - 190 * v); b = m; } else { r = m; g = Math.round(255 - 152 * -v); b = 255; }
      }
      d[4 * i] = r; d[4 * i + 1] = g; d[4 * i + 2] = b; d[4 * i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }

  function maxAbs(arrays, n) {
    var m = 1e-12;
    arrays.forEach(function (a) { for (var i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i])); });
    return m;
  }

  function percent(p) { return (100 * p).toFixed(1) + " %"; }

  // ---- one widget
  function Widget(root, data) {
    var self = this, model = loadModel(data), K = model.classes.length, i;
    var samples = decode(data.samples), N = data.sample_labels.length, PIXELS = FRAME * FRAME;
    var drawing = data.drawing !== false, dataset = data.dataset || "MNIST";
    function labelName(label) { return data.label_names ? data.label_names[label] : String(label); }
    function testImage(label) {  // "test image of a 7", "test image labelled Ankle boot"
      return (drawing ? "test image of a " : "test image labelled ") + labelName(label);
    }
    this.classes = model.classes.slice();
    var longest = Math.max.apply(null, model.classes.map(function (c) { return c.length; }));
    if (longest > 2) {  // class names, not digits: a label column that fits the longest
      root.classList.add("lc-named");
      root.style.setProperty("--lc-label", Math.ceil(0.62 * longest) + "em");
    }
    this.input = null;
    this.probabilities = null;
    this.source = null;
    root.textContent = "";
    if (!drawing) root.classList.add("lc-nodraw");

    var head = el("div", "lc-head", root);
    el("h2", "lc-title", head, data.title);
    if (data.subtitle) el("p", "lc-subtitle", head, data.subtitle);
    var grid = el("div", "lc-grid", root);

    var drawPanel = el("section", "lc-panel lc-draw", grid);
    el("h3", null, drawPanel, drawing ? "Draw a digit" : "The input: a test image");
    var canvas = el("canvas", "lc-canvas", drawPanel);
    canvas.width = canvas.height = CANVAS;
    canvas.setAttribute("aria-label", drawing ? "drawing area: draw one digit with the mouse, a pen or a finger"
                                              : "the test image the model is given");
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    var controls = el("div", "lc-controls", drawPanel);
    var clear = el("button", "lc-clear", drawing ? controls : null, "Clear");
    clear.type = "button";
    var seen = el("figure", "lc-seen", controls);
    var preview = smallCanvas(seen, "lc-input", "the 28 x 28 input the model sees");
    el("figcaption", null, seen, drawing ? "what the model sees: 28 \u00d7 28, centred like MNIST"
                                         : "what the model sees: the 28 \u00d7 28 image as it is");
    var status = el("p", "lc-status", drawPanel);

    var samplePanel = el("section", "lc-panel lc-samples", grid);
    el("h3", null, samplePanel, dataset + " test images: click one to use it as the input");
    var strip = el("div", "lc-strip", samplePanel);
    for (i = 0; i < N; i++) {
      var button = el("button", "lc-sample", strip);
      button.type = "button";
      button.setAttribute("aria-label", testImage(data.sample_labels[i]));
      button.setAttribute("data-index", i);
      paint(smallCanvas(button, null), samples.subarray(i * PIXELS, (i + 1) * PIXELS));
      button.addEventListener("click", (function (n) { return function () { self.loadSample(n); }; })(i));
    }

    var probsPanel = el("section", "lc-panel lc-probs", grid);
    el("h3", null, probsPanel, "Class probabilities");
    var bars = [];
    for (i = 0; i < K; i++) {
      var row = el("div", "lc-bar-row", probsPanel);
      row.setAttribute("data-class", model.classes[i]);
      el("span", "lc-bar-label", row, model.classes[i]);
      var track = el("span", "lc-bar-track", row);
      bars.push({ row: row, bar: el("span", "lc-bar", track), value: el("span", "lc-bar-value", row, "\u2013") });
    }

    var evidencePanel = el("section", "lc-panel lc-evidence", grid);
    el("h3", null, evidencePanel, "Evidence w\u2096 \u2299 x of the two most probable classes");
    el("p", "lc-note", evidencePanel, "Each pixel's weight times its value (the background is \u22121): red " +
       "pushes for the class, blue against. The sum plus the bias is the class score (logit).");
    var maps = el("div", "lc-maps", evidencePanel), evidence = [];
    for (i = 0; i < 2; i++) {
      var fig = el("figure", "lc-map-figure", maps);
      evidence.push({ canvas: smallCanvas(fig, "lc-map", "evidence map"), caption: el("figcaption", null, fig, "") });
    }
    el("div", "lc-legend", evidencePanel).innerHTML = "<span>\u2212 against</span><span class=lc-ramp></span><span>for +</span>";

    var templatePanel = el("section", "lc-panel lc-templates", grid);
    el("h3", null, templatePanel, "Weight templates w\u2096");
    el("p", "lc-note", templatePanel, data.binary ? "The logistic model has one weight vector w: class " +
       model.classes[1] + " uses +w and class " + model.classes[0] + " \u2212w." :
       "One 28 \u00d7 28 picture of weights per class, on a common scale.");
    var templateGrid = el("div", "lc-template-grid", templatePanel), limit = maxAbs(model.templates, PIXELS);
    for (i = 0; i < K; i++) {
      var tfig = el("figure", "lc-template", templateGrid);
      paint(smallCanvas(tfig, "lc-map", "weights of class " + model.classes[i]), model.templates[i], limit);
      el("figcaption", null, tfig, model.classes[i]);
    }
    el("div", "lc-legend", templatePanel).innerHTML = "<span>\u2212 negative weight</span><span class=lc-ramp></span>" +
      "<span>positive +</span>";

    this.show = function (pixels, source) {
      self.input = pixels ? Array.from(pixels) : null;
      self.source = pixels ? source : null;
      paint(preview, pixels);
      if (!pixels) {
        self.probabilities = null;
        bars.forEach(function (b) { b.bar.style.width = "0"; b.value.textContent = "\u2013"; b.row.className = "lc-bar-row"; b.row.removeAttribute("data-probability"); });
        evidence.forEach(function (m) { paint(m.canvas, null, 1); m.caption.textContent = ""; });
        status.textContent = drawing ? "Nothing to classify yet: draw a digit, or click a test image below."
                                     : "Nothing to classify yet: click a test image below.";
        return;
      }
      var result = classify(model, pixels), order = [];
      self.probabilities = Array.from(result.probs);
      for (var k = 0; k < K; k++) order.push(k);
      order.sort(function (a, b) { return result.probs[b] - result.probs[a] || a - b; });
      bars.forEach(function (b, k) {
        var p = result.probs[k];
        b.bar.style.width = (100 * p).toFixed(2) + "%";
        b.value.textContent = percent(p);
        b.row.className = "lc-bar-row" + (k === order[0] ? " lc-top" : "");
        b.row.setAttribute("data-probability", String(p));
      });
      var shown = order.slice(0, 2), scale = maxAbs(shown.map(function (k) { return result.terms[k]; }), PIXELS);
      shown.forEach(function (k, j) {
        paint(evidence[j].canvas, result.terms[k], scale);
        evidence[j].caption.textContent = (j ? "runner-up " : "top ") + model.classes[k] + " (" + percent(result.probs[k]) +
          "): score " + result.logits[k].toFixed(2);
      });
      status.textContent = "The model says " + model.classes[order[0]] + " (" + percent(result.probs[order[0]]) + ")" +
        (source === "sample" ? ", for a " + self.sampleText + "." : ".");
    };

    function blank() { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, CANVAS, CANVAS); }
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * CANVAS / r.width, (e.clientY - r.top) * CANVAS / r.height];
    }
    function line(a, b) {
      ctx.strokeStyle = "#000"; ctx.lineWidth = PEN; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    }
    var last = null, pending = false;
    this.update = function () {
      pending = false;
      var rgba = ctx.getImageData(0, 0, CANVAS, CANVAS).data;
      self.show(normalizeDigit(toGray(rgba, CANVAS * CANVAS), CANVAS, CANVAS), "drawing");
    };
    function schedule() { if (!pending) { pending = true; requestAnimationFrame(self.update); } }
    if (drawing) canvas.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      last = point(e);
      ctx.fillStyle = "#000"; ctx.beginPath(); ctx.arc(last[0], last[1], PEN / 2, 0, 2 * Math.PI); ctx.fill();
      schedule();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (last === null) return;
      e.preventDefault();
      var p = point(e);
      line(last, p); last = p;
      schedule();
    });
    function end() { if (last !== null) { last = null; self.update(); } }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    clear.addEventListener("click", function () { blank(); self.show(null); });
    this.canvasPixels = function () { return Array.from(ctx.getImageData(0, 0, CANVAS, CANVAS).data); };
    this.clearDrawing = function () { blank(); self.show(null); };

    blank();
    this.loadSample = function (index) {
      var pixels = Float64Array.from(samples.subarray(index * PIXELS, (index + 1) * PIXELS));
      var small = document.createElement("canvas");
      small.width = small.height = FRAME;
      // a digit as black ink on white, like a drawing; a test image of another dataset as it is
      paint(small, drawing ? pixels.map(function (v) { return 255 - v; }) : pixels);
      blank();
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(small, 0, 0, CANVAS, CANVAS);
      self.sampleText = testImage(data.sample_labels[index]);
      self.show(pixels, "sample");
    };
    if (N) this.loadSample(0); else this.show(null);
  }

  // ---- start every widget of the page once; a second copy of this script only starts new ones
  var widgets = [];
  function start() {
    var roots = document.querySelectorAll(".lc-widget:not([data-started])");
    Array.prototype.forEach.call(roots, function (root) {
      var source = document.getElementById(root.getAttribute("data-model"));
      root.setAttribute("data-started", "");
      widgets.push(new Widget(root, JSON.parse(source.textContent)));
    });
  }
  window.linclass = {
    start: start,
    widgets: widgets,
    normalizeDigit: normalizeDigit,
    get input() { return widgets.length ? widgets[0].input : null; },
    get probabilities() { return widgets.length ? widgets[0].probabilities : null; }
  };
  start();
})();
