// Copy buttons of the VietQR section: each copies the text of the element its
// data-copy-target names and says so in the page's status line.
document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById("copy-status");
    if (!source) return;
    var text = source.textContent.trim();
    var done = function () {
      if (status) status.textContent = (document.documentElement.lang === "en" ? "Copied: " : "Đã sao chép: ") + text;
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) {}
    }
  });
});

// The result page, while not final: reload in 2 s (the server stops asking after 2 minutes).
var refreshing = document.querySelector("[data-refresh-url]");
if (refreshing) {
  setTimeout(function () { location.replace(refreshing.getAttribute("data-refresh-url")); }, 2000);
}
