/* Row lookup of the audit report: any record of the run, by the row number the officer sees in
   Excel (and the owner for land), with its outcome, the per-comparison waterfall of its best
   candidate and the candidates it beat. Data is the JSON block #lookup-data (no network); a large
   run keeps its records in side scripts (D.folder/<k>.js, rows k*D.chunk_rows…), each loaded by a
   <script src> the first time one of its rows is asked for: it calls doisoatLookupChunk(k, records).
   The page also opens on a row given in the address: report.html#dong=12 or #dong=12-2. */
(function () {
  var holder = document.getElementById("lookup-data");
  if (!holder) return;
  var D = JSON.parse(holder.textContent);
  var out = document.getElementById("lookup-result");
  var probe = document.createElement("div");
  probe.innerHTML = "<svg></svg>";  // the SVG namespace, from the parser (the page holds no URL at all)
  var SVGNS = probe.firstChild.namespaceURI;

  function el(tag, attrs, text) {
    var e = tag.indexOf("svg:") === 0 ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function label(table, code) { return (code in D.labels[table]) ? D.labels[table][code] : (code || ""); }
  function pct(p) { return p === null || p === undefined ? "" : (100 * p).toFixed(1) + " %"; }

  function waterfall(steps, title) {
    var barH = 18, gap = 6, labelW = 230, width = 620, plot = width - labelW - 60;
    var running = 0, spans = [];
    steps.forEach(function (s) { spans.push([s[0], running, running + s[1], s[1], s[2]]); running += s[1]; });
    var lo = Math.min(0, running), hi = Math.max(0, running);
    spans.forEach(function (s) { lo = Math.min(lo, s[1], s[2]); hi = Math.max(hi, s[1], s[2]); });
    var span = (hi - lo) || 1, sx = function (v) { return labelW + plot * (v - lo) / span; };
    var height = (spans.length + 1) * (barH + gap) + 16;
    var svg = el("svg:svg", { "class": "chart waterfall", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" });
    svg.appendChild(el("svg:title", {}, title));
    svg.appendChild(el("svg:line", { x1: sx(0), x2: sx(0), y1: 4, y2: height - 4, stroke: "#999", "stroke-dasharray": "2 2" }));
    function row(i, name, a, b, color, valueText, bold) {
      var y = 6 + i * (barH + gap), x0 = Math.min(sx(a), sx(b)), x1 = Math.max(sx(a), sx(b));
      svg.appendChild(el("svg:text", { x: labelW - 8, y: y + 13, "text-anchor": "end", "font-size": 11, "font-weight": bold ? "bold" : "normal" }, name.slice(0, 34)));
      svg.appendChild(el("svg:rect", { "class": "bar", x: x0, y: y, width: Math.max(x1 - x0, 1), height: barH, fill: color }));
      svg.appendChild(el("svg:text", { x: x1 + 4, y: y + 13, "font-size": 10, fill: "#444" }, valueText));
    }
    spans.forEach(function (s, i) {
      var color = s[3] > 0 ? "#2ca02c" : (s[3] < 0 ? "#d62728" : "#7f7f7f");
      row(i, s[0] + (s[4] ? ": " + s[4] : ""), s[1], s[2], color, (s[3] >= 0 ? "+" : "") + s[3].toFixed(2));
    });
    row(spans.length, "Tổng điểm", 0, running, "#1f77b4", running.toFixed(2), true);
    return svg;
  }

  function table(headers, rows) {
    var t = el("table", { "class": "mono" }), tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", {}, h)); });
    t.appendChild(el("thead")).appendChild(tr);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (r) {
      var tr = body.appendChild(el("tr"));
      r.forEach(function (v) { tr.appendChild(el("td", {}, v === null || v === undefined ? "" : String(v))); });
    });
    return t;
  }

  var loading = {};  // chunk number -> rows waiting for it
  window.doisoatLookupChunk = function (k, records) {
    for (var key in records) D.records[key] = records[key];
    var waiting = loading[k] || [];
    loading[k] = "loaded";
    waiting.forEach(function (w) { show(w[0], w[1]); });
  };

  function show(row, owner) {
    var k = D.chunks ? Math.floor(row / D.chunk_rows) : -1;
    if (k >= 0 && D.chunks.indexOf(k) >= 0 && loading[k] !== "loaded") {
      out.textContent = "Đang mở dữ liệu tra cứu…";
      if (!loading[k]) {
        loading[k] = [];
        var script = document.createElement("script");
        script.src = D.folder + "/" + k + ".js";
        script.onerror = function () {
          out.textContent = "Không mở được tệp " + script.src + ": thư mục " + D.folder + " phải nằm cạnh báo cáo.";
          out.setAttribute("data-shown", "error");
        };
        document.head.appendChild(script);
      }
      loading[k].push([row, owner]);
      return;
    }
    out.innerHTML = "";
    var key = row + ":" + (owner || 0), rec = D.records[key];
    var where = "Dòng " + row + (D.owner_split ? ", người thứ " + ((owner || 0) + 1) : "");
    if (!rec) {
      out.appendChild(el("p", {}, D.truncated
        ? where + ": không có trong phần dữ liệu nhúng của báo cáo (báo cáo chỉ nhúng " + D.embedded + " bản ghi đầu); tra trong kho DuckDB, bảng link_evidence."
        : where + ": không có bản ghi này trong lần chạy."));
      out.setAttribute("data-shown", "none");
      return;
    }
    var status = rec[0], method = rec[1], prob = rec[2], pop = rec[3], decision = rec[4], cands = rec[5] || [];
    var fromRun = rec[6] || null;  // a link kept from an earlier run (record and person unchanged)
    var text = where + " — " + label("status", status) + " — " + label("method", method)
      + (prob !== null ? " — xác suất " + pct(prob) : "")
      + (fromRun ? " — liên kết giữ từ lần chạy " + fromRun : "")
      + (decision ? " — người xem xét: " + label("decision", decision) : "");
    out.appendChild(el("p", { "class": "lookup-head" }, text));
    if (!cands.length) {
      out.appendChild(el("p", {}, D.deterministic.indexOf(method) >= 0
        ? "Liên kết bằng quy tắc số định danh, không cần điểm xác suất."
        : "Không có ứng viên nào được so sánh cho bản ghi này (không có người gần giống trong các khối so sánh)."));
      out.setAttribute("data-shown", key);
      return;
    }
    var best = cands[0];
    cands.forEach(function (c) { if (pop !== null && c[1] === pop) best = c; });
    var steps = [[label("comparison", "prior"), D.prior, ""]];
    best[3].forEach(function (p) { steps.push([label("comparison", p[0]), p[2] || 0, label("level", p[1])]); });
    out.appendChild(waterfall(steps, "Đóng góp của từng phép so sánh: " + text));
    var comps = [];
    cands.forEach(function (c) { c[3].forEach(function (p) { if (comps.indexOf(p[0]) < 0) comps.push(p[0]); }); });
    comps.sort();
    var rows = cands.map(function (c) {
      var total = D.prior, lv = {};
      c[3].forEach(function (p) { total += p[2] || 0; lv[p[0]] = label("level", p[1]); });
      return [c[0], c[2] || "", total.toFixed(2), pct(1 / (1 + Math.pow(2, -total)))].concat(comps.map(function (k) { return lv[k] || ""; }));
    });
    out.appendChild(el("h4", {}, "Các ứng viên đã so sánh"));
    out.appendChild(table(["Hạng", "Số định danh ứng viên", "Điểm", "Xác suất"].concat(comps.map(function (k) { return label("comparison", k); })), rows));
    out.setAttribute("data-shown", key);
  }

  var form = document.getElementById("lookup-form");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var row = parseInt(form.elements["dong"].value, 10), owner = form.elements["nguoi"] ? parseInt(form.elements["nguoi"].value || "1", 10) - 1 : 0;
    if (!isNaN(row)) show(row, owner);
  });
  var m = /dong=(\d+)(?:-(\d+))?/.exec(location.hash);
  if (m) {
    show(parseInt(m[1], 10), m[2] ? parseInt(m[2], 10) - 1 : 0);
    form.scrollIntoView();
  }
})();
