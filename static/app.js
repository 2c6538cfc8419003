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
