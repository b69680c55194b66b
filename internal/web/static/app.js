// trothu: small progressive enhancements; every page works without them.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-fill-phone]");
  if (b) {
    var input = document.querySelector("input[name=phone]");
    if (input) { input.value = b.getAttribute("data-fill-phone"); input.focus(); }
    e.preventDefault();
  }
  var c = e.target.closest("[data-confirm]");
  if (c && !window.confirm(c.getAttribute("data-confirm"))) { e.preventDefault(); }
});
