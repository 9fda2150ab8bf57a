// The language switch in the menu bar: a link to the same page in the
// other language's book, which `docs/book.sh` builds beside this one
// (target/book/en/... and target/book/zh-CN/..., the same path in both).
// Each page also has the switch as a link under its title, for readers
// without JavaScript.
(function () {
    "use strict";
    const buttons = document.querySelector("#mdbook-menu-bar .right-buttons");
    if (!buttons || typeof path_to_root === "undefined") {
        return;
    }
    const english = document.documentElement.lang === "en";
    const other = english ? "zh-CN" : "en";
    // The book's root, from mdBook's relative path to it on this page.
    const root = new URL(path_to_root || "./", window.location.href);
    const here = window.location.href.split("#")[0].split("?")[0];
    if (!here.startsWith(root.href)) {
        return;
    }
    const page = here.slice(root.href.length) || "index.html";
    const link = document.createElement("a");
    link.id = "language-switch";
    link.href = new URL("../" + other + "/" + page, root).href;
    link.hreflang = other;
    link.lang = other;
    link.textContent = english ? "中文" : "English";
    link.title = english ? "阅读本页的中文版" : "Read this page in English";
    link.setAttribute("aria-label", link.title);
    buttons.prepend(link);
})();
