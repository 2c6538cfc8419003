// Keyward's small script: copy buttons, dialogs with typed-name
// confirmations, and the wizards' row dialogs. Loaded as a file so the
// Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    ev.preventDefault();
    var src = document.getElementById(btn.getAttribute("data-copy"));
    var text = src ? (src.value !== undefined && src.tagName !== "CODE" && src.tagName !== "PRE" ? src.value : src.textContent) : btn.getAttribute("data-copy-text");
    var done = function () {
      // A second click while "Copied" shows keeps the first label.
      if (!btn.hasAttribute("data-copy-label")) btn.setAttribute("data-copy-label", btn.textContent);
      btn.textContent = "Copied";
      clearTimeout(btn.copyTimer);
      btn.copyTimer = setTimeout(function () { btn.textContent = btn.getAttribute("data-copy-label"); btn.removeAttribute("data-copy-label"); }, 1500);
    };
    // Without the asynchronous clipboard (or when the browser refuses it),
    // a selected textarea and the copy command.
    var fallback = function () {
      var ta = document.createElement("textarea");
      ta.value = text; document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); done(); } finally { ta.remove(); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });
  // A submit button with data-confirm-name only enables when the input
  // whose data-confirm-for names it holds exactly that name; one without
  // (a confirmation that asks for a PIN the server checks) once the input
  // is not empty.
  document.addEventListener("input", function (ev) {
    var input = ev.target;
    if (!input.matches("[data-confirm-for]")) return;
    var btn = document.getElementById(input.getAttribute("data-confirm-for"));
    if (!btn) return;
    btn.disabled = btn.hasAttribute("data-confirm-name") ? input.value !== btn.getAttribute("data-confirm-name") : input.value === "";
  });
})();
// Confirm dialogs (views/partials/confirm_dialog.html): [data-dialog-open=ID]
// opens a <dialog> at its first step (and stops the click from submitting);
// [data-dialog-close] closes its dialog; [data-dialog-choice] writes its
// value to the dialog's [data-dialog-choice-field] input (jwk_action for
// the JWK Connection dialog), names it in [data-dialog-chosen] and moves to
// the typed-name step. Closing a dialog forgets the choice.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var open = t.closest("[data-dialog-open]");
    if (open) {
      var d = document.getElementById(open.getAttribute("data-dialog-open"));
      if (d) {
        ev.preventDefault();
        var steps = d.querySelectorAll("[data-dialog-step]");
        if (steps.length > 1) {
          steps.forEach(function (s) { s.hidden = s.getAttribute("data-dialog-step") !== "choose"; });
        }
        // Start over: no name typed, the confirm button disabled.
        d.querySelectorAll("[data-confirm-for]").forEach(function (i) {
          i.value = "";
          var b = document.getElementById(i.getAttribute("data-confirm-for"));
          if (b) b.disabled = true;
        });
        d.showModal();
      }
      return;
    }
    var close = t.closest("[data-dialog-close]");
    if (close) {
      ev.preventDefault();
      var dlg = close.closest("dialog");
      if (dlg) dlg.close();
      return;
    }
    var choice = t.closest("[data-dialog-choice]");
    if (choice) {
      ev.preventDefault();
      var box = choice.closest("dialog");
      var field = box.querySelector("[data-dialog-choice-field]");
      if (field) {
        // A hidden input's value is its attribute, so keep the first one
        // aside for closing to restore.
        if (!field.hasAttribute("data-initial")) field.setAttribute("data-initial", field.value);
        field.value = choice.getAttribute("data-dialog-choice");
      }
      box.querySelectorAll("[data-dialog-chosen]").forEach(function (e) { e.textContent = choice.textContent; });
      box.querySelectorAll("[data-dialog-step]").forEach(function (s) {
        s.hidden = s.getAttribute("data-dialog-step") !== "confirm";
      });
      var input = box.querySelector("[data-confirm-for]");
      if (input) input.focus();
    }
  });
  // A dialog the server answered again with a refusal inside (a wrong
  // PIN) opens as the page loads, at its confirmation step.
  function autoOpen(root) {
    if (!root || !root.querySelectorAll) return;
    var found = Array.prototype.slice.call(root.querySelectorAll("dialog[data-dialog-autoopen]"));
    if (root.matches && root.matches("dialog[data-dialog-autoopen]")) found.push(root);
    found.forEach(function (d) {
      d.removeAttribute("data-dialog-autoopen");
      if (d.open) return;
      d.querySelectorAll("[data-dialog-step]").forEach(function (s) {
        s.hidden = s.getAttribute("data-dialog-step") !== "confirm";
      });
      d.showModal();
      var input = d.querySelector("[data-confirm-for]");
      if (input) input.focus();
    });
  }
  document.addEventListener("htmx:load", function (ev) { autoOpen(ev.detail && ev.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { autoOpen(document); });
  } else {
    autoOpen(document);
  }
  // Closing a dialog (Cancel or Escape) forgets its choice, so a later
  // submit does not carry it. "close" does not bubble. The event is queued,
  // so it can arrive after the dialog was opened again and a new choice
  // made: a dialog that is open again keeps its choice.
  document.addEventListener("close", function (ev) {
    var dlg = ev.target;
    if (!dlg || dlg.tagName !== "DIALOG" || dlg.open) return;
    var field = dlg.querySelector("[data-dialog-choice-field]");
    if (field && field.hasAttribute("data-initial")) field.value = field.getAttribute("data-initial");
  }, true);
})();
// Row dialogs (the wizards' Configuration tables). A row carries its
// values in hidden inputs named like configs[N].environment; the dialog's
// form has the same fields without the prefix and names the table body in
// data-rows. [data-row-new=DIALOG] opens DIALOG empty, for the next index;
// [data-row-edit=ROW] opens the dialog with ROW's values. The dialog's form
// posts to the server (htmx), which answers the row for the table (the
// dialog then closes) or the fields again with the message beside one.
// [data-remove-row=ROW] removes a row.
//
// The certificate dialog adds: a select's option[data-default] is chosen
// when the row has no value for it; [data-clear-on-open] (the previewed
// content) is removed and [data-placeholder] shown when the dialog opens;
// on Edit of a row that carries content, [data-preview-on-edit] is clicked
// so the dialog shows it parsed; a [data-pick-radio] writes its value to
// the form's [data-pick] input; and [data-pkcs12-password] shows while the
// chosen (or applied) file is a .p12 or .pfx.
(function () {
  "use strict";
  var rowField = /^\w+\[(\d+)\]\.(\w+)$/;
  function rowValues(row) {
    var v = {};
    row.querySelectorAll("input[type=hidden][name]").forEach(function (i) {
      var m = rowField.exec(i.name);
      if (m) v[m[2]] = i.value;
    });
    return v;
  }
  // A [data-unique] select offers only the values no other row has (an
  // environment is configured once), and a locked row keeps its own.
  function restrict(form) {
    var rows = document.getElementById(form.getAttribute("data-rows"));
    var editing = form.getAttribute("data-editing");
    var locked = form.querySelector("[name=locked]");
    form.querySelectorAll("select[data-unique]").forEach(function (sel) {
      var used = {};
      rows.querySelectorAll("[data-row-index]").forEach(function (r) {
        if (r.id !== editing) used[rowValues(r)[sel.name]] = true;
      });
      Array.prototype.forEach.call(sel.options, function (o) {
        o.disabled = o.value !== "" && o.value !== sel.value && (used[o.value] || (locked && locked.value === "1"));
      });
    });
  }
  function open(dlg, v, current) {
    var form = dlg.querySelector("form[data-rows]");
    form.querySelectorAll(".field-error, .form-error").forEach(function (e) { e.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.hasAttribute("data-keep")) return;
      var val = v[el.name] || "";
      if (el.type === "radio") el.checked = val ? el.value === val : el.hasAttribute("data-default");
      else if (el.type === "file") el.value = "";
      else if (el.tagName === "SELECT" && !val && el.querySelector("option[data-default]")) el.value = el.querySelector("option[data-default]").value;
      else el.value = val;
    });
    form.setAttribute("data-editing", current ? current.id : "");
    restrict(form);
    form.querySelectorAll("[data-shown-with]").forEach(function (e) { e.hidden = !v[e.getAttribute("data-shown-with")]; });
    form.querySelectorAll("[data-value-of]").forEach(function (e) { e.textContent = v[e.getAttribute("data-value-of")] || ""; });
    form.querySelectorAll("[data-clear-on-open]").forEach(function (e) { e.remove(); });
    form.querySelectorAll("[data-placeholder]").forEach(function (e) { e.hidden = false; });
    pkcs12(form);
    dlg.showModal();
    var preview = form.querySelector("[data-preview-on-edit]");
    if (current && preview && (v.upload || v.content || v.chain)) preview.click();
  }
  // The PKCS#12 password shows for a .p12 or .pfx file, chosen now or
  // applied before.
  function pkcs12(form) {
    var pw = form.querySelector("[data-pkcs12-password]");
    if (!pw) return;
    var file = form.querySelector("[data-pkcs12-file]");
    var applied = form.querySelector("input[name=file_name]");
    var name = file && file.files && file.files.length ? file.files[0].name : (applied ? applied.value : "");
    pw.hidden = !/\.(p12|pfx)$/i.test(name);
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches("[data-pkcs12-file]")) pkcs12(t.form);
    if (t.matches("[data-pick-radio]")) {
      var pick = t.form && t.form.querySelector("[data-pick]");
      if (pick) pick.value = t.value;
    }
  });
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var add = t.closest("[data-row-new]");
    if (add) {
      ev.preventDefault();
      var dlg = document.getElementById(add.getAttribute("data-row-new"));
      var rows = document.getElementById(dlg.querySelector("form[data-rows]").getAttribute("data-rows"));
      var next = 0;
      rows.querySelectorAll("[data-row-index]").forEach(function (r) {
        next = Math.max(next, Number(r.getAttribute("data-row-index")) + 1);
      });
      open(dlg, { index: String(next) }, null);
      return;
    }
    var edit = t.closest("[data-row-edit]");
    if (edit) {
      ev.preventDefault();
      var row = document.getElementById(edit.getAttribute("data-row-edit"));
      var form = document.querySelector("form[data-rows=" + row.parentElement.id + "]");
      var v = rowValues(row);
      v.index = row.getAttribute("data-row-index");
      v.replace = "1";
      v.locked = row.hasAttribute("data-row-locked") ? "1" : "";
      open(form.closest("dialog"), v, row);
      return;
    }
    var rm = t.closest("[data-remove-row]");
    if (rm) {
      ev.preventDefault();
      var gone = document.getElementById(rm.getAttribute("data-remove-row"));
      if (gone) gone.remove();
    }
  });
  // An answer that is the dialog's fields again (a 422, a preview, a
  // fetched chain): the dialog stays open, its choices restricted as before.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var form = ev.detail.elt && ev.detail.elt.closest && ev.detail.elt.closest("form[data-rows]");
    if (form) { restrict(form); pkcs12(form); }
  });
  // The server answered the row (HX-Trigger: config-applied, on the
  // dialog's form): the dialog has done its work.
  document.addEventListener("config-applied", function (ev) {
    var dlg = ev.target && ev.target.closest && ev.target.closest("dialog");
    if (dlg) dlg.close();
  });
})();
// "/" focuses the header's search box (unless typing somewhere already);
// Escape closes its results.
(function () {
  "use strict";
  document.addEventListener("keydown", function (ev) {
    var box = document.getElementById("global-search");
    if (!box) return;
    var t = ev.target;
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      box.focus();
      box.select();
    } else if (ev.key === "Escape" && t === box) {
      var res = document.getElementById("global-search-results");
      if (res) res.innerHTML = "";
      box.blur();
    }
  });
})();
// A filter form sends only the filters that are set, so the address pushed
// to the history reads ?status=ACTIVE, not ?search=&status=ACTIVE&api=&….
document.addEventListener("htmx:configRequest", function (ev) {
  "use strict";
  var elt = ev.detail && ev.detail.elt;
  var form = elt && elt.closest && elt.closest("form.filters");
  if (!form || ev.detail.verb !== "get") return;
  var params = ev.detail.parameters;
  var empty = [];
  if (params && typeof params.forEach === "function") {
    params.forEach(function (v, k) { if (v === "") empty.push(k); });
  } else if (params) {
    Object.keys(params).forEach(function (k) { if (params[k] === "") empty.push(k); });
  }
  empty.forEach(function (k) { if (typeof params.delete === "function") params.delete(k); else delete params[k]; });
});
