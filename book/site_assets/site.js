// Small repairs to the theme pair this book pins (pydata-sphinx-theme 0.17.1 with
// sphinx-book-theme 1.3.0; see pydata-sphinx-theme#2451, sphinx-book-theme#988).
//
// Each theme binds its sidebar handlers to the *first* `.primary-toggle` and
// `.secondary-toggle` on the page, which are the pydata header's hidden buttons;
// the book theme's visible ☰ and contents buttons only raise a tooltip. Forward
// their clicks to the bound buttons: below 992 px the sidebar opens as a dialog,
// above it ☰ collapses and restores the sidebar. Loaded with `defer`, before the
// theme's own deferred scripts, so the tooltips are gone before Bootstrap sets
// them up (after a click they stayed up and covered the search button).
(() => {
  for (const selector of [".primary-toggle", ".secondary-toggle"]) {
    const [bound, ...others] = document.querySelectorAll(selector);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
  document
    .querySelectorAll(".bd-header-article [data-bs-toggle='tooltip']")
    .forEach((button) => {
      button.removeAttribute("data-bs-toggle");
      if (!button.getAttribute("aria-label") && button.title) {
        button.setAttribute("aria-label", button.title);
      }
    });
})();

// On a phone the chapter list and the page contents open as dialogs over the page.
// A tap on a link closes the dialog (a section of this page is then in view, not
// hidden behind it), and so does Esc wherever the focus is.
(() => {
  const drawers = ["pst-primary-sidebar-modal", "pst-secondary-sidebar-modal"]
    .map((id) => document.getElementById(id))
    .filter(Boolean);
  for (const dialog of drawers) {
    dialog.addEventListener("click", (event) => {
      if (event.target.closest("a[href]") && dialog.open) dialog.close();
    });
  }
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Escape") return;
      for (const dialog of drawers) {
        if (dialog.open) {
          event.preventDefault();
          dialog.close();
        }
      }
    },
    true,
  );
})();
