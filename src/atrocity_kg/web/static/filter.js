/*
 * Filters a list or table of a thing's page (its studies, a factor's findings) as the reader
 * types: each ".filter[data-filter-for]" box names the list it filters, and is hidden until this
 * script shows it, so that without JavaScript the page shows the whole list and no dead form.
 * An item matches when its text contains the words typed and its data-releases (and
 * data-outcomes) include the chosen release (and outcome). A file, not an inline script: the
 * content security policy refuses every inline script.
 */
(function () {
  "use strict";

  function items(target) {
    var rows = target.querySelectorAll(":scope > li, :scope > tbody > tr");
    return Array.prototype.slice.call(rows);
  }

  function words(value) {
    return (value || "").split(/\s+/).filter(function (word) {
      return word !== "";
    });
  }

  function setUp(box) {
    var target = document.getElementById(box.getAttribute("data-filter-for"));
    if (!target) {
      return;
    }
    var text = box.querySelector('[data-filter="text"]');
    var release = box.querySelector('[data-filter="release"]');
    var outcome = box.querySelector('[data-filter="outcome"]');
    var count = box.querySelector('[data-filter="count"]');
    var all = items(target);

    function apply() {
      var wanted = words(text ? text.value.toLowerCase() : "");
      var code = release ? release.value : "";
      var key = outcome ? outcome.value : "";
      var shown = 0;
      all.forEach(function (item) {
        var content = item.textContent.toLowerCase();
        var ok =
          wanted.every(function (word) {
            return content.indexOf(word) !== -1;
          }) &&
          (!code || words(item.getAttribute("data-releases")).indexOf(code) !== -1) &&
          (!key || words(item.getAttribute("data-outcomes")).indexOf(key) !== -1);
        item.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      if (count) {
        count.textContent = shown + " of " + all.length + " shown";
      }
    }

    [text, release, outcome].forEach(function (control) {
      if (control) {
        control.addEventListener("input", apply);
      }
    });
    box.hidden = false;
    apply();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".filter[data-filter-for]"), setUp);
})();
