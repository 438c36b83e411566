/* Code reference: keyboard-navigable typeahead (htmx fills the list). The history chart is server-rendered SVG. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function items(list) {
    return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
  }

  function setActive(input, list, index) {
    var opts = items(list);
    opts.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (index >= 0 && opts[index]) {
      input.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    list.dataset.active = String(index);
  }

  function close(input, list) {
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    list.dataset.active = "-1";
  }

  function wire(form) {
    var input = form.querySelector('input[role="combobox"]');
    var list = form.querySelector('[role="listbox"]');
    if (!input || !list || input.dataset.wired) { return; }
    input.dataset.wired = "1";
    list.dataset.active = "-1";
    input.addEventListener("keydown", function (ev) {
      var opts = items(list);
      var active = parseInt(list.dataset.active || "-1", 10);
      if (ev.key === "ArrowDown" && opts.length) {
        ev.preventDefault();
        setActive(input, list, (active + 1) % opts.length);
      } else if (ev.key === "ArrowUp" && opts.length) {
        ev.preventDefault();
        setActive(input, list, active <= 0 ? opts.length - 1 : active - 1);
      } else if (ev.key === "Enter" && active >= 0 && opts[active]) {
        ev.preventDefault();
        window.location.href = opts[active].getAttribute("href");
      } else if (ev.key === "Escape") {
        close(input, list);
      }
    });
    list.addEventListener("htmx:afterSwap", function () {
      input.setAttribute("aria-expanded", items(list).length ? "true" : "false");
      setActive(input, list, -1);
    });
    document.addEventListener("click", function (ev) {
      if (!form.contains(ev.target)) { close(input, list); }
    });
    input.addEventListener("input", function () {
      if (!input.value.trim()) { close(input, list); }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-typeahead]"), wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
