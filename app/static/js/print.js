/* The 打印 button of a print page (app/templates/core/print_base.html): opens the browser's print dialog. */
(function () {
  "use strict";
  var button = document.getElementById("print-now");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
}());
