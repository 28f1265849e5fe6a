// Small fixes to sphinx-book-theme 1.3 / pydata-sphinx-theme 0.17 (the newest pair Jupyter Book 1
// accepts). The themes attach the sidebar buttons' handlers to the FIRST .primary-toggle and
// .secondary-toggle in the page, which is a hidden duplicate in the navbar; the buttons a reader
// sees (article header) did nothing. Here they forward their click to the one that works: on a
// phone it opens the menu or the page contents, on a desktop it collapses the sidebar.
document.addEventListener("DOMContentLoaded", function () {
  ["primary-toggle", "secondary-toggle"].forEach(function (name) {
    var buttons = document.querySelectorAll("." + name);
    Array.prototype.slice.call(buttons, 1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        buttons[0].click();
      });
    });
  });
});
