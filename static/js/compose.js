// The compose page: how many characters are left, counted as the form counts them
// (core/text.py): NFC, a line break as one character (the browser sends CRLF),
// surrounding whitespace trimmed, one per code point (an emoji is one, not two).
// The textarea's maxlength counts UTF-16 units of the text as typed, so it stops a
// post of emoji, or of Hangul typed as decomposed jamo, well short of 500: with this
// script the counter takes its place, and the server still has the last word.
// Without JavaScript, maxlength and the help text stay.
(function () {
  "use strict";
  var counter = document.querySelector("[data-count-for]");
  var field = counter && document.getElementById(counter.getAttribute("data-count-for"));
  if (!field) {
    return;
  }
  var max = Number(field.getAttribute("maxlength"));
  // What Python's str.strip() removes (str.isspace), no more and no less.
  var space = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var ends = new RegExp("^" + space + "+|" + space + "+$", "g");

  function length(text) {
    var normal = text.replace(/\r\n?/g, "\n").normalize("NFC").replace(ends, "");
    return Array.from(normal).length;
  }

  function show() {
    var left = max - length(field.value);
    var template = counter.getAttribute(left < 0 ? "data-over" : "data-left");
    counter.textContent = template.replace("{n}", String(Math.abs(left)));
    counter.classList.toggle("over", left < 0);
  }

  field.removeAttribute("maxlength");
  counter.id = counter.id || field.id + "_left";
  var described = field.getAttribute("aria-describedby");
  field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
  counter.hidden = false;
  field.addEventListener("input", show);
  show();
})();
