/**
 * The report page's own script (runs in the browser, inlined after the libraries). It reads the
 * embedded `report-data`, draws with wavesurfer.js (waveform, beat/downbeat/bar markers as
 * regions, timeline, playback) and uPlot (tempo curve, piano rolls, chroma heat maps, RMS), and
 * keeps one time cursor across every view. Each view records what it drew in data attributes
 * (`data-marks`), and `window.__report` exposes the libraries' objects, so tests count the drawn
 * marks against the data. `window.__reportReady` and the `report-ready` performance mark are set
 * once everything is drawn; `window.__reportRenderMs` is the time from script start.
 */
export const REPORT_CLIENT_SCRIPT = `
(function () {
  'use strict';
  var t0 = performance.now();
  performance.mark('report-start');
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var report = { data: data, wavesurfer: null, regions: null, plots: [], errors: [] };
  window.__report = report;
  // Every view shares one time axis: the audio's length when there is a waveform (the player's
  // duration then agrees with it), else the song's.
  var dur = data.waveform && data.waveform.duration_s > 0 ? data.waveform.duration_s : Math.max(data.duration_s, 0.001);
  var peaks = data.waveform && data.waveform.max.length > 0
    ? [data.waveform.max, data.waveform.min.map(function (v) { return -v; })]
    : [[0, 0]];
  var PITCH = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
  var STEM_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fail(where, err) {
    report.errors.push(where + ': ' + (err && err.message ? err.message : String(err)));
    var box = document.getElementById('errors');
    box.hidden = false;
    box.appendChild(el('li', null, where + ': ' + (err && err.message ? err.message : String(err))));
  }
  function width(node) {
    return Math.max(320, Math.floor(node.clientWidth || document.body.clientWidth || 960));
  }
  function fmt(x, d) {
    return typeof x === 'number' && isFinite(x) ? x.toFixed(d) : '–';
  }

  // ---- key numbers ----
  function keyNumbers() {
    var s = data.summary;
    var rows = [
      ['duration', fmt(data.duration_s, 2) + ' s'],
      ['tempo', fmt(s.tempo_bpm, 2) + ' BPM'],
      ['meter', s.meter || '–'],
      ['beat tracker', (s.tracker || '–') + (s.confidence !== null ? ' (confidence ' + fmt(s.confidence, 2) + ')' : '')],
      ['beats / downbeats', s.num_beats + ' / ' + s.num_downbeats],
      ['bars', String(s.num_bars)],
      ['stems', s.stems.join(', ') || '–'],
    ];
    var stems = Object.keys(s.notes_per_stem);
    rows.push(['notes', stems.length ? stems.map(function (k) { return k + ': ' + s.notes_per_stem[k]; }).join(', ') : 'none']);
    var table = document.getElementById('key-numbers');
    rows.forEach(function (r) {
      var tr = el('tr');
      tr.appendChild(el('th', null, r[0]));
      tr.appendChild(el('td', null, r[1]));
      table.appendChild(tr);
    });
    if (s.low_confidence) {
      var note = document.getElementById('rhythm-note');
      note.textContent =
        'Low rhythm confidence (' + fmt(s.confidence, 2) + '): the beats, downbeats and bars below are likely wrong. Check them before using the bar-level outputs.';
      note.hidden = false;
    }
    var list = document.getElementById('degraded');
    if (s.degraded_reasons.length === 0) {
      list.appendChild(el('li', { class: 'ok' }, 'no step degraded'));
    } else {
      s.degraded_reasons.forEach(function (r) { list.appendChild(el('li', { 'data-degraded': '1' }, r)); });
    }
  }

  // ---- shared time axis: bar lines as grid, bar numbers as labels ----
  var barStarts = data.bars.start;
  function barAxis() {
    var axis = { stroke: '#555', grid: { stroke: '#e4e4e4', width: 1 }, ticks: { show: false }, size: 30 };
    if (barStarts.length > 0) {
      // A grid line per bar while they are at least 8 px apart, else every k-th bar; a label
      // every few lines so the numbers never overlap.
      var kept = [];
      axis.splits = function (u) {
        var px = u.bbox.width / devicePixelRatio / Math.max(1, barStarts.length);
        var k = Math.max(1, Math.ceil(8 / Math.max(px, 0.01)));
        kept = [];
        for (var i = 0; i < barStarts.length; i += k) kept.push(i);
        return kept.map(function (i) { return barStarts[i]; });
      };
      axis.values = function (u, splits) {
        var px = u.bbox.width / devicePixelRatio / Math.max(1, splits.length);
        var every = Math.max(1, Math.ceil(28 / Math.max(px, 0.01)));
        return splits.map(function (v, j) { return j % every === 0 && kept[j] !== undefined ? String(data.bars.index[kept[j]] + 1) : ''; });
      };
      axis.label = 'bar';
      axis.labelSize = 14;
    } else {
      axis.label = 'seconds';
      axis.labelSize = 14;
    }
    return axis;
  }
  var cursors = [];
  function addCursor(u) {
    var line = el('div', { class: 'cursor' });
    u.over.appendChild(line);
    cursors.push({ u: u, line: line });
    u.over.addEventListener('click', function (e) {
      var t = u.posToVal(e.offsetX, 'x');
      if (report.wavesurfer && isFinite(t)) report.wavesurfer.setTime(Math.max(0, Math.min(dur, t)));
    });
  }
  function moveCursors(t) {
    cursors.forEach(function (c) {
      c.line.style.left = c.u.valToPos(t, 'x') + 'px';
    });
  }
  function plot(container, opts, plotData) {
    opts.width = width(container);
    opts.legend = opts.legend || { show: false };
    opts.cursor = opts.cursor || { drag: { x: false, y: false }, points: { show: false } };
    var u = new uPlot(opts, plotData, container);
    report.plots.push(u);
    addCursor(u);
    return u;
  }
  function clip(u, ctx) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
  }

  // ---- waveform, markers, timeline, playback (wavesurfer.js) ----
  function alignWaveform() {
    var ref = report.plots[0];
    if (!ref) return;
    var area = ref.over.getBoundingClientRect();
    var box = document.getElementById('waveform');
    var outer = box.getBoundingClientRect();
    box.style.marginLeft = Math.max(0, area.left - outer.left) + 'px';
    box.style.marginRight = Math.max(0, outer.right - area.right) + 'px';
  }
  function waveform() {
    return new Promise(function (resolve) {
      var box = document.getElementById('waveform');
      var media;
      if (data.audio) {
        media = el('audio', { controls: '', preload: 'none', id: 'audio' });
        media.src = data.audio.src;
        document.getElementById('player').appendChild(media);
      } else {
        document.getElementById('player').appendChild(el('p', { class: 'note' }, 'No audio file next to the outputs: playback is off.'));
      }
      if (!data.waveform) {
        document.getElementById('waveform-note').textContent = data.waveform_note || 'no waveform';
      }
      var regions = WaveSurfer.Regions.create();
      var timeline = WaveSurfer.Timeline.create({ height: 16, style: { fontSize: '10px', color: '#555' } });
      var opts = {
        container: box,
        height: 110,
        waveColor: '#8aa9c7',
        progressColor: '#3d6a96',
        cursorColor: '#c00',
        cursorWidth: 2,
        peaks: peaks,
        duration: dur,
        normalize: peaks.length > 1,
        interact: true,
        dragToSeek: false,
        plugins: [regions, timeline],
      };
      if (media) opts.media = media;
      var ws = WaveSurfer.create(opts);
      report.wavesurfer = ws;
      report.regions = regions;
      var done = false;
      function onReady() {
        if (done) return;
        done = true;
        var placed;
        try {
          placed = markers(ws, regions);
        } catch (err) {
          fail('markers', err);
        }
        (placed || Promise.resolve()).then(resolve);
      }
      ws.on('ready', onReady);
      ws.on('decode', onReady);
      ws.on('error', function (err) { fail('waveform', err); onReady(); });
      ws.on('timeupdate', moveCursors);
      ws.on('interaction', moveCursors);
      setTimeout(onReady, 1500);
    });
  }
  function markers(ws, regions) {
    // The regions plugin places each marker in its own timer and measures its layer after each
    // one, which is quadratic for thousands of markers; with the layer hidden while they are
    // added there is nothing to lay out until it is shown again, once.
    var layer = ws.getWrapper().querySelector('[part~="regions-container"]');
    if (layer) layer.style.display = 'none';
    var counts = { beat: 0, downbeat: 0, bar: 0 };
    // wavesurfer culls a marker that rounds onto its last pixel: one that late moves in by a pixel.
    var latest = dur * (1 - 1 / Math.max(100, ws.getWrapper().clientWidth || 1000));
    // Dense marks (a long song) get thinner and fainter so the waveform stays visible.
    var width = Math.max(100, ws.getWrapper().clientWidth || 1000);
    function fade(n, alpha) {
      var px = width / Math.max(1, n);
      return px >= 8 ? alpha : Math.max(0.06, alpha * px / 8);
    }
    var thin = width / Math.max(1, data.beats.length) < 8;
    function add(kind, i, t, color) {
      var r = regions.addRegion({ id: kind + '-' + i, start: Math.min(t, latest), color: color, drag: false, resize: false });
      if (r && r.element) {
        r.element.setAttribute('data-mark', kind);
        if (thin) r.element.style.borderLeftWidth = '1px';
      }
      counts[kind]++;
    }
    var a = fade(data.beats.length, 0.28);
    data.beats.forEach(function (t, i) { add('beat', i, t, 'rgba(0,0,0,' + a + ')'); });
    a = fade(data.downbeats.length, 0.85);
    data.downbeats.forEach(function (t, i) { add('downbeat', i, t, 'rgba(214,39,40,' + a + ')'); });
    a = fade(barStarts.length, 0.55);
    barStarts.forEach(function (t, i) { add('bar', i, t, 'rgba(31,119,180,' + a + ')'); });
    var box = document.getElementById('waveform');
    box.setAttribute('data-beats', counts.beat);
    box.setAttribute('data-downbeats', counts.downbeat);
    box.setAttribute('data-bars', counts.bar);
    return new Promise(function (resolve) {
      // Timers run in order: this one after every marker's.
      setTimeout(function () {
        if (layer) layer.style.display = '';
        resolve();
      }, 0);
    });
  }

  // ---- tempo curve ----
  function tempo() {
    var box = document.getElementById('tempo');
    var tc = data.tempo_curve;
    if (tc.time.length === 0) {
      box.appendChild(el('p', { class: 'note' }, 'No beats were found, so there is no tempo curve.'));
      box.setAttribute('data-marks', 0);
      return;
    }
    var lo = Math.min.apply(null, tc.bpm), hi = Math.max.apply(null, tc.bpm);
    var pad = Math.max(2, (hi - lo) * 0.1);
    plot(box, {
      height: 150,
      scales: { x: { time: false, range: [0, dur] }, y: { range: [Math.max(0, lo - pad), hi + pad] } },
      axes: [barAxis(), { label: 'BPM', labelSize: 14, size: 52, grid: { stroke: '#eee' } }],
      series: [{}, { label: 'tempo', stroke: '#d62728', width: 1.5, points: { show: tc.time.length < 400, size: 3 } }],
    }, [tc.time, tc.bpm]);
    box.setAttribute('data-marks', tc.time.length);
  }

  // ---- piano roll per stem (notes on the bar grid) ----
  function pianoRolls() {
    var host = document.getElementById('piano-rolls');
    if (data.notes.length === 0) {
      host.appendChild(el('p', { class: 'note' }, 'No notes were transcribed.'));
      return;
    }
    data.notes.forEach(function (n, si) {
      var section = el('div', { class: 'stem' });
      section.appendChild(el('h3', null, n.stem + ' — ' + n.pitch.length + ' notes'));
      var box = el('div', { class: 'roll', 'data-stem': n.stem });
      section.appendChild(box);
      host.appendChild(section);
      var lo = 127, hi = 0;
      n.pitch.forEach(function (p) { if (p < lo) lo = p; if (p > hi) hi = p; });
      if (lo > hi) { lo = 48; hi = 72; }
      var color = STEM_COLORS[si % STEM_COLORS.length];
      var rows = hi - lo + 3;
      plot(box, {
        height: Math.max(120, Math.min(320, rows * 6 + 40)),
        scales: { x: { time: false, range: [0, dur] }, y: { range: [lo - 1.5, hi + 1.5] } },
        axes: [barAxis(), {
          label: 'pitch', labelSize: 14, size: 52, grid: { stroke: '#f0f0f0' },
          splits: function () { var s = []; for (var p = Math.ceil(lo / 12) * 12; p <= hi + 1; p += 12) s.push(p); return s.length ? s : [lo]; },
          values: function (u, splits) { return splits.map(function (p) { return PITCH[((p % 12) + 12) % 12] + (Math.floor(p / 12) - 1); }); },
        }],
        series: [{}, { label: n.stem, stroke: 'transparent', points: { show: false } }],
        hooks: {
          draw: [function (u) {
            var ctx = u.ctx;
            clip(u, ctx);
            var drawn = 0;
            for (var i = 0; i < n.pitch.length; i++) {
              var x0 = u.valToPos(n.start[i], 'x', true);
              var x1 = u.valToPos(n.end[i], 'x', true);
              var y0 = u.valToPos(n.pitch[i] + 0.45, 'y', true);
              var y1 = u.valToPos(n.pitch[i] - 0.45, 'y', true);
              ctx.globalAlpha = 0.35 + 0.65 * Math.min(1, (n.velocity[i] || 64) / 127);
              ctx.fillStyle = color;
              ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
              drawn++;
            }
            ctx.restore();
            box.setAttribute('data-marks', drawn);
          }],
        },
      }, [[0, dur], [null, null]]);
    });
  }

  // ---- per-bar chroma heat map and RMS per stem ----
  function heat(v) {
    var x = Math.max(0, Math.min(1, v));
    // white → dark blue
    var r = Math.round(255 - 225 * x), g = Math.round(255 - 175 * x), b = Math.round(255 - 95 * x);
    return 'rgb(' + r + ',' + g + ',' + b + ')';
  }
  function barFeatures() {
    var host = document.getElementById('bar-features');
    if (data.bar_features.length === 0) {
      host.appendChild(el('p', { class: 'note' }, 'No per-bar features were computed.'));
      return;
    }
    data.bar_features.forEach(function (f) {
      var section = el('div', { class: 'stem' });
      section.appendChild(el('h3', null, f.stem + ' — ' + f.bar_index.length + ' bars'));
      var chromaBox = el('div', { class: 'chroma', 'data-stem': f.stem });
      var rmsBox = el('div', { class: 'rms', 'data-stem': f.stem });
      section.appendChild(chromaBox);
      section.appendChild(rmsBox);
      host.appendChild(section);
      plot(chromaBox, {
        height: 230,
        scales: { x: { time: false, range: [0, dur] }, y: { range: [0, 12] } },
        axes: [barAxis(), {
          label: 'chroma', labelSize: 14, size: 52, grid: { show: false },
          splits: function () { return [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5]; },
          values: function () { return PITCH; },
        }],
        series: [{}, { stroke: 'transparent', points: { show: false } }],
        hooks: {
          draw: [function (u) {
            var ctx = u.ctx;
            clip(u, ctx);
            var cells = 0;
            for (var i = 0; i < f.bar_index.length; i++) {
              var x0 = u.valToPos(f.start[i], 'x', true), x1 = u.valToPos(f.end[i], 'x', true);
              var row = f.chroma[i] || [];
              for (var k = 0; k < row.length; k++) {
                var y0 = u.valToPos(k + 1, 'y', true), y1 = u.valToPos(k, 'y', true);
                ctx.fillStyle = heat(row[k]);
                ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
                cells++;
              }
            }
            ctx.restore();
            chromaBox.setAttribute('data-marks', cells);
          }],
        },
      }, [[0, dur], [null, null]]);
      var xs = [], ys = [];
      for (var i = 0; i < f.bar_index.length; i++) {
        xs.push(f.start[i]); ys.push(f.rms[i]);
      }
      if (xs.length > 0) { xs.push(f.end[f.end.length - 1]); ys.push(f.rms[f.rms.length - 1]); }
      plot(rmsBox, {
        height: 110,
        scales: { x: { time: false, range: [0, dur] }, y: { range: function (u, lo, hi) { return [0, (hi || 1) * 1.1]; } } },
        axes: [barAxis(), { label: 'RMS', labelSize: 14, size: 52, grid: { stroke: '#eee' } }],
        series: [{}, { label: 'rms', stroke: '#2ca02c', fill: 'rgba(44,160,44,0.15)', width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } }],
      }, [xs, ys]);
      rmsBox.setAttribute('data-marks', f.bar_index.length);
    });
  }

  function step(name, fn) {
    try {
      return fn();
    } catch (err) {
      fail(name, err);
    }
  }
  step('key numbers', keyNumbers);
  step('tempo', tempo);
  step('piano roll', pianoRolls);
  step('bar features', barFeatures);
  // The waveform goes last, once the charts are laid out, so its time axis lines up with theirs.
  var wave = new Promise(function (resolve) { requestAnimationFrame(resolve); }).then(function () {
    step('align', alignWaveform);
    return step('waveform', waveform);
  });
  window.addEventListener('resize', function () {
    report.plots.forEach(function (u) { u.setSize({ width: width(u.root.parentNode), height: u.height }); });
  });
  wave.then(function () {
    requestAnimationFrame(function () {
      moveCursors(0);
      performance.mark('report-ready');
      performance.measure('report-render', 'report-start', 'report-ready');
      window.__reportRenderMs = performance.now() - t0;
      window.__reportReady = true;
      document.body.setAttribute('data-ready', '1');
    });
  });
})();
`;
