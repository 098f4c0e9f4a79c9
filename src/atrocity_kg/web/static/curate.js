/*
 * The curator's page (/curate): previews a contribution (POST /admin/contributions?preview=true),
 * keeps it (the same without preview), and withdraws one (DELETE /admin/contributions/{id}),
 * each with the admin token typed in the form as a Bearer token. The lines of the impact come
 * from the server (the same text as `atrocity-kg contribute --preview`). A file, not an inline
 * script: the content security policy refuses every inline script.
 */
(function () {
  "use strict";

  var form, keep, status, lines, problems, table;

  function token() {
    return document.getElementById("token").value.trim();
  }

  function fill(list, items) {
    list.textContent = "";
    items.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
  }

  function body() {
    var data = new FormData();
    ["records", "bibliography"].forEach(function (name) {
      var input = document.getElementById(name);
      if (input.files.length) {
        data.append(name, input.files[0], input.files[0].name);
      }
    });
    ["curator", "note"].forEach(function (name) {
      var value = document.getElementById(name).value.trim();
      if (value) {
        data.append(name, value);
      }
    });
    return data;
  }

  function show(answer, document_) {
    fill(lines, document_.lines || []);
    var found = [];
    if (document_.file) {
      found.push(document_.message);
    } else if (document_.report) {
      document_.report.results.forEach(function (result) {
        found.push(result.severity + ": " + result.focus_node + " " + result.message);
      });
    } else if (document_.message) {
      found.push(document_.message);
    }
    fill(problems, found);
  }

  function send(preview) {
    var url = "/admin/contributions" + (preview ? "?preview=true" : "");
    status.textContent = preview ? "Previewing…" : "Keeping…";
    keep.disabled = true;
    return fetch(url, {
      method: "POST",
      headers: { Authorization: "Bearer " + token() },
      body: body(),
    }).then(function (answer) {
      var type = answer.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 ? answer.json() : answer.text().then(function (text) {
        return { message: text.trim() };
      });
      return read.then(function (document_) {
        show(answer, document_);
        if (answer.status === 201) {
          status.textContent = "Kept as contribution " + document_.contribution.id + ".";
          addRow(document_.contribution);
        } else if (answer.ok && document_.report && document_.report.conforms) {
          status.textContent = "Preview: nothing was written.";
          keep.disabled = false;
        } else {
          status.textContent = "Not accepted (" + answer.status + "): nothing was written.";
        }
      });
    });
  }

  function cell(row, text, header) {
    var element = document.createElement(header ? "th" : "td");
    if (header) {
      element.scope = "row";
    }
    element.textContent = text;
    row.appendChild(element);
    return element;
  }

  function addRow(meta) {
    var row = document.createElement("tr");
    row.setAttribute("data-id", meta.id);
    cell(row, meta.id, true);
    cell(row, meta.created);
    cell(row, meta.curator);
    cell(row, meta.note);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "withdraw";
    button.setAttribute("data-id", meta.id);
    button.textContent = "Withdraw " + meta.id;
    cell(row, "").appendChild(button);
    table.tBodies[0].appendChild(row);
  }

  function withdraw(button) {
    var id = button.getAttribute("data-id");
    status.textContent = "Withdrawing " + id + "…";
    fetch("/admin/contributions/" + encodeURIComponent(id), {
      method: "DELETE",
      headers: { Authorization: "Bearer " + token() },
    }).then(function (answer) {
      if (answer.status === 204) {
        var row = table.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
        if (row) {
          row.remove();
        }
        status.textContent = "Withdrew " + id + ".";
      } else {
        answer.text().then(function (text) {
          status.textContent = "Not withdrawn (" + answer.status + "): " + text.trim();
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("contribute");
    keep = document.getElementById("keep");
    status = document.getElementById("status");
    lines = document.getElementById("impact-lines");
    problems = document.getElementById("problems");
    table = document.getElementById("contributions");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(true);
    });
    keep.addEventListener("click", function () {
      send(false);
    });
    table.addEventListener("click", function (event) {
      var button = event.target.closest("button.withdraw");
      if (button) {
        withdraw(button);
      }
    });
  });
})();
