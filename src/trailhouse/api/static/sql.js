// The SQL page: run the statement through POST /api/query and show the result as a table.
(function () {
  "use strict";
  var run = document.getElementById("run");
  if (!run) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("sql-status");
  var out = document.getElementById("sql-result");

  function cell(v) {
    if (v === null || v === undefined) return "";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function show(data) {
    var table = document.createElement("table");
    table.className = "data";
    table.setAttribute("data-testid", "sql-table");
    var head = table.createTHead().insertRow();
    data.columns.forEach(function (c) { var th = document.createElement("th"); th.textContent = c.name; head.appendChild(th); });
    var body = table.createTBody();
    data.rows.forEach(function (row) {
      var tr = body.insertRow();
      row.forEach(function (v) { tr.insertCell().textContent = cell(v); });
    });
    out.replaceChildren(table);
  }

  function execute() {
    status.textContent = "Running…";
    status.className = "";
    fetch("/api/query", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      credentials: "same-origin",
      body: JSON.stringify({ sql: document.getElementById("sql").value })
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (!data.ok) {
        status.textContent = data.error;
        status.className = "error";
        out.replaceChildren();
        return;
      }
      status.textContent = data.row_count + " rows in " + data.seconds + " s" + (data.truncated ? " (truncated)" : "");
      show(data);
    }).catch(function (e) { status.textContent = String(e); status.className = "error"; });
  }

  run.addEventListener("click", execute);
  document.getElementById("sql").addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); execute(); }
  });
})();
