/* linclass core: the MNIST-style normalisation and the linear model's outputs, in plain JavaScript.
 *
 * normalizeDigit() is linclass/prediction/normalize.py written again, step for step and with the
 * same arithmetic, so the page's 28 x 28 input is the one `linclass predict` would compute.
 */
var linclassCore = window.linclassCore || (function () {
  "use strict";
  var FRAME = 28, BOX = 20, MIN_CONTRAST = 32, INK_THRESHOLD = 0.3;

  function decode(b64) {
    var text = atob(b64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function decodeFloat64(b64) {
    var bytes = decode(b64), view = new DataView(bytes.buffer), out = new Float64Array(bytes.length / 8);
    for (var i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
    return out;
  }

  // ---- the MNIST-style normalisation (prediction/normalize.py)
  function toGray(rgba, n) {
    var gray = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var a = rgba[4 * i + 3] / 255, r = rgba[4 * i] * a + 255 * (1 - a);
      var g = rgba[4 * i + 1] * a + 255 * (1 - a), b = rgba[4 * i + 2] * a + 255 * (1 - a);
      gray[i] = r * 0.299 + g * 0.587 + b * 0.114;
    }
    return gray;
  }

  function median(values) {
    var s = Float64Array.from(values).sort(), n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  function areaResizeMatrix(nIn, nOut) {
    var scale = nIn / nOut, rows = [];
    for (var i = 0; i < nOut; i++) {
      var row = new Float64Array(nIn), start = i * scale;
      for (var j = 0; j < nIn; j++) {
        var overlap = Math.min(start + scale, j + 1) - Math.max(start, j);
        row[j] = Math.max(overlap, 0) / scale;
      }
      rows.push(row);
    }
    return rows;
  }

  function placeByCentreOfMass(box, h, w) {
    var total = 0, cy = 0, cx = 0, y, x;
    for (y = 0; y < h; y++) for (x = 0; x < w; x++) { total += box[y][x]; cy += box[y][x] * y; cx += box[y][x] * x; }
    cy /= total; cx /= total;
    var top = Math.min(Math.max(Math.ceil(FRAME / 2 - 0.5 - cy), 0), FRAME - h);  // centre in [13.5, 14.5)
    var left = Math.min(Math.max(Math.ceil(FRAME / 2 - 0.5 - cx), 0), FRAME - w);
    var frame = new Float64Array(FRAME * FRAME);
    for (y = 0; y < h; y++) for (x = 0; x < w; x++) frame[(top + y) * FRAME + left + x] = box[y][x];
    return frame;
  }

  /* (h, w) grey levels, row-major -> (784) MNIST-style pixels in [0, 255], or null for a blank image. */
  function normalizeDigit(gray, h, w) {
    var border = [], y, x, i, sum = 0;
    for (x = 0; x < w; x++) border.push(gray[x]);
    for (x = 0; x < w; x++) border.push(gray[(h - 1) * w + x]);
    for (y = 1; y < h - 1; y++) border.push(gray[y * w]);
    for (y = 1; y < h - 1; y++) border.push(gray[y * w + w - 1]);
    var background = median(border);
    for (i = 0; i < h * w; i++) sum += gray[i];
    var invert = background > sum / (h * w);
    if (invert) background = 255 - background;
    var ink = new Float64Array(h * w), peak = 0;
    for (i = 0; i < h * w; i++) {
      ink[i] = Math.max((invert ? 255 - gray[i] : gray[i]) - background, 0);
      peak = Math.max(peak, ink[i]);
    }
    if (peak < MIN_CONTRAST) return null;
    var stretch = 255 / peak, top = h, bottom = -1, left = w, right = -1;
    for (y = 0; y < h; y++) for (x = 0; x < w; x++) {
      i = y * w + x;
      ink[i] *= stretch;
      if (ink[i] > INK_THRESHOLD * 255) {
        top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x);
      }
    }
    var ch = bottom - top + 1, cw = right - left + 1, longer = Math.max(ch, cw);
    var outH = Math.max(1, Math.floor(ch * BOX / longer + 0.5)), outW = Math.max(1, Math.floor(cw * BOX / longer + 0.5));
    var rowsR = areaResizeMatrix(ch, outH), colsR = areaResizeMatrix(cw, outW), half = [], box = [], a, b, k, acc;
    for (a = 0; a < outH; a++) {  // rows: (outH, ch) @ (ch, cw)
      half.push(new Float64Array(cw));
      for (x = 0; x < cw; x++) {
        acc = 0;
        for (k = 0; k < ch; k++) acc += rowsR[a][k] * ink[(top + k) * w + left + x];
        half[a][x] = acc;
      }
    }
    for (a = 0; a < outH; a++) {  // columns: (outH, cw) @ (cw, outW)
      box.push(new Float64Array(outW));
      for (b = 0; b < outW; b++) {
        acc = 0;
        for (k = 0; k < cw; k++) acc += half[a][k] * colsR[b][k];
        box[a][b] = acc;
      }
    }
    return placeByCentreOfMass(box, outH, outW);
  }

  // ---- the model: features x = pixels / 127.5 - 1 and a bias 1, as linclass.preprocess
  function features(pixels) {
    var x = new Float64Array(FRAME * FRAME + 1);
    for (var i = 0; i < FRAME * FRAME; i++) x[i] = pixels[i] / 127.5 - 1;
    x[FRAME * FRAME] = 1;
    return x;
  }

  /* Class probabilities (K) and per-class evidence: terms[k][i] = template_k[i] * x[i], bias last. */
  function classify(model, pixels) {
    var x = features(pixels), D = x.length, K = model.classes.length, terms = [], logits = [], k, i;
    for (k = 0; k < K; k++) {
      var t = new Float64Array(D), z = 0;
      for (i = 0; i < D; i++) { t[i] = model.templates[k][i] * x[i]; z += t[i]; }
      terms.push(t); logits.push(z);
    }
    var probs = new Float64Array(K);
    if (model.binary) {  // P(class 1) = sigmoid(x . w); class 0's template is -w
      var s = logits[1], e = Math.exp(-Math.abs(s));
      probs[1] = s >= 0 ? 1 / (1 + e) : e / (1 + e);
      probs[0] = 1 - probs[1];
    } else {
      var top = Math.max.apply(null, logits), total = 0;
      for (k = 0; k < K; k++) { probs[k] = Math.exp(logits[k] - top); total += probs[k]; }
      for (k = 0; k < K; k++) probs[k] /= total;
    }
    return { probs: probs, terms: terms, logits: logits };
  }

  function loadModel(data) {
    var W = decodeFloat64(data.weights), D = FRAME * FRAME + 1, K = data.outputs, templates = [], k, i;
    for (k = 0; k < K; k++) {
      var column = new Float64Array(D);
      for (i = 0; i < D; i++) column[i] = W[i * K + k];
      templates.push(column);
    }
    if (data.binary) templates.unshift(templates[0].map(function (v) { return -v; }));
    return { classes: data.classes, binary: data.binary, templates: templates };
  }

  return { FRAME: FRAME, decode: decode, toGray: toGray, normalizeDigit: normalizeDigit, classify: classify,
           loadModel: loadModel };
})();
