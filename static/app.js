// Keyward's small script: copy buttons and typed-name confirmations. Loaded
// as a file so the Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    ev.preventDefault();
    var src = document.getElementById(btn.getAttribute("data-copy"));
    var text = src ? (src.value !== undefined && src.tagName !== "CODE" && src.tagName !== "PRE" ? src.value : src.textContent) : btn.getAttribute("data-copy-text");
    var done = function () {
      var old = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var ta = document.createElement("textarea");
      ta.value = text; document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); done(); } finally { ta.remove(); }
    }
  });
  // A submit button with data-confirm-name only enables when the input named
  // by data-confirm-input holds exactly that name.
  document.addEventListener("input", function (ev) {
    var input = ev.target;
    if (!input.matches("[data-confirm-for]")) return;
    var btn = document.getElementById(input.getAttribute("data-confirm-for"));
    if (btn) btn.disabled = input.value !== btn.getAttribute("data-confirm-name");
  });
})();
// Dialogs: [data-dialog-open=ID] opens a <dialog> (and stops the click from
// submitting); [data-dialog-close] closes its dialog; [data-jwk-choice]
// stores the JWK Connection choice in the form's jwk_action field and moves
// the dialog to its typed-name confirmation step. [data-remove-row=ID]
// removes a wizard row.
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
    var choice = t.closest("[data-jwk-choice]");
    if (choice) {
      ev.preventDefault();
      var form = choice.closest("form");
      var field = form && form.querySelector("[name=jwk_action]");
      if (field) {
        // A hidden input's value is its attribute, so keep the first one
        // aside for Cancel to restore.
        if (!field.hasAttribute("data-initial")) field.setAttribute("data-initial", field.value);
        field.value = choice.getAttribute("data-jwk-choice");
      }
      var box = choice.closest("dialog");
      box.querySelectorAll("[data-dialog-step]").forEach(function (s) {
        s.hidden = s.getAttribute("data-dialog-step") !== "confirm";
      });
      var input = box.querySelector("[data-confirm-for]");
      if (input) input.focus();
      return;
    }
    var rm = t.closest("[data-remove-row]");
    if (rm) {
      ev.preventDefault();
      var row = document.getElementById(rm.getAttribute("data-remove-row"));
      if (row) row.remove();
    }
  });
  // Closing a dialog (Cancel or Escape) forgets its JWK Connection choice,
  // so a later plain Save does not carry it. "close" does not bubble.
  // The event is queued, so it can arrive after the dialog was opened again
  // and a new choice made: a dialog that is open again keeps its choice.
  document.addEventListener("close", function (ev) {
    var dlg = ev.target;
    if (!dlg || dlg.tagName !== "DIALOG" || dlg.open) return;
    var f = dlg.closest("form") || dlg.querySelector("form");
    var field = f && f.querySelector("[name=jwk_action]");
    if (field && field.hasAttribute("data-initial")) field.value = field.getAttribute("data-initial");
  }, true);
})();
