/* Behaviour every page may use, so templates carry no inline handlers (the Content-Security-Policy allows
   scripts from our static files only):
   <form data-confirm="Delete this report?">   asks before submitting;
   <input data-select-on-focus>                 selects its whole value when clicked or focused. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function selectAll(event) {
    var el = event.target;
    if (el && el.hasAttribute && el.hasAttribute("data-select-on-focus") && el.select) el.select();
  }
  document.addEventListener("click", selectAll);
  document.addEventListener("focusin", selectAll);
})();
