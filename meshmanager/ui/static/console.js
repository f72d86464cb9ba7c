// meshmanager console: copy buttons, dialogs, confirmations, the YAML editor's gutter.
(function () {
  "use strict";

  function copyText(text, button) {
    function done() {
      var before = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = before; button.classList.remove("copied"); }, 1600);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else {
      fallback(text);
      done();
    }
  }

  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-copy]");
    if (target) {
      var source = document.getElementById(target.getAttribute("data-copy"));
      if (source) { copyText(source.innerText.replace(/\n$/, ""), target); }
      return;
    }
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && dialog.showModal) { dialog.showModal(); }
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      closer.closest("dialog").close();
      return;
    }
    var dialogBackdrop = event.target.tagName === "DIALOG" ? event.target : null;
    if (dialogBackdrop) { dialogBackdrop.close(); return; }
    var goto = event.target.closest("[data-goto-line]");
    if (goto) {
      event.preventDefault();
      var area = document.getElementById("yaml");
      var line = parseInt(goto.getAttribute("data-goto-line"), 10);
      var lines = area.value.split("\n");
      var start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
      area.focus();
      area.setSelectionRange(start, start + (lines[line - 1] || "").length);
      var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
      area.scrollTop = Math.max(0, (line - 3) * lineHeight);
      return;
    }
    var sw = event.target.closest("[data-switch]");
    if (sw) {
      event.preventDefault();
      var method = sw.getAttribute("data-switch");
      document.querySelectorAll("[data-switch]").forEach(function (tab) {
        tab.setAttribute("aria-selected", tab === sw ? "true" : "false");
      });
      document.querySelectorAll("[data-for]").forEach(function (field) {
        field.hidden = field.getAttribute("data-for") !== method;
      });
      var input = document.querySelector("[data-method-input]");
      if (input) { input.value = method; }
      var first = document.querySelector("[data-for='" + method + "'] input");
      if (first) { first.focus(); }
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // The YAML editor: line numbers follow the text and its scrolling.
  function syncGutter(editor) {
    var area = editor.querySelector("textarea");
    var gutter = editor.querySelector(".gutter");
    var marked = {};
    gutter.querySelectorAll(".err").forEach(function (n) { marked[n.textContent] = true; });
    function render() {
      var count = area.value.split("\n").length;
      if (gutter.childElementCount !== count) {
        var html = "";
        for (var n = 1; n <= count; n++) {
          html += "<span" + (marked[n] ? " class=\"err\"" : "") + ">" + n + "</span>";
        }
        gutter.innerHTML = html;
      }
      gutter.scrollTop = area.scrollTop;
    }
    area.addEventListener("input", function () { marked = {}; render(); });
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    area.addEventListener("keydown", function (event) {
      if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey) {
        // Two spaces, as YAML wants; Escape then Tab leaves the editor.
        if (area.dataset.escaped === "1") { area.dataset.escaped = ""; return; }
        event.preventDefault();
        var s = area.selectionStart;
        area.setRangeText("  ", s, area.selectionEnd, "end");
        render();
      } else if (event.key === "Escape") {
        area.dataset.escaped = "1";
      }
    });
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-editor]").forEach(syncGutter);
  });
})();
