// trothu: the service-type form's extra-field editor: add, remove and
// reorder fields in place. Without script the form still works: a blank
// row adds a field, clearing a row removes it, the order box orders them.
(function () {
  var list = document.getElementById("fields");
  if (!list) { return; }
  var blank = list.querySelector("[data-field]:last-child");
  var template = blank ? blank.cloneNode(true) : null;
  function renumber() {
    var rows = list.querySelectorAll("[data-field]");
    for (var i = 0; i < rows.length; i++) {
      var o = rows[i].querySelector("[data-f=order]");
      if (o) { o.value = i + 1; }
    }
  }
  function tools(row) {
    var t = row.querySelector("[data-field-tools]");
    if (t) { t.hidden = false; }
  }
  Array.prototype.forEach.call(list.querySelectorAll("[data-field]"), tools);
  var add = document.getElementById("field-add");
  if (add && template) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var row = template.cloneNode(true);
      Array.prototype.forEach.call(row.querySelectorAll("input, textarea"), function (el) { el.value = ""; });
      tools(row);
      list.appendChild(row);
      renumber();
      var label = row.querySelector("[data-f=label]");
      if (label) { label.focus(); }
    });
  }
  list.addEventListener("click", function (e) {
    var row = e.target.closest("[data-field]");
    if (!row) { return; }
    if (e.target.closest("[data-remove]")) {
      row.parentNode.removeChild(row);
      renumber();
      return;
    }
    var mv = e.target.closest("[data-move]");
    if (mv) {
      if (mv.getAttribute("data-move") === "-1" && row.previousElementSibling) {
        list.insertBefore(row, row.previousElementSibling);
      } else if (mv.getAttribute("data-move") === "1" && row.nextElementSibling) {
        list.insertBefore(row.nextElementSibling, row);
      }
      renumber();
      mv.focus();
    }
  });
})();
