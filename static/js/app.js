// htmx does not swap error responses; say what went wrong instead of doing nothing.
document.body.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var text = {
    403: "Your role does not allow this action.",
    404: "That no longer exists in this organization; reload the page.",
  }[xhr.status] || "Something went wrong (" + xhr.status + "); reload the page and try again.";
  var main = document.querySelector("main.page");
  if (!main) return;
  var flash = document.createElement("div");
  flash.className = "flash error";
  flash.setAttribute("role", "alert");
  flash.textContent = text;
  main.insertBefore(flash, main.firstChild);
  window.scrollTo({ top: 0, behavior: "smooth" });
});

// Behaviour that templates would otherwise put inline (the CSP forbids on*= attributes):
// - a <select data-autosubmit> submits its form when changed (the organization switch);
// - a <button data-fill-target="id" data-fill-value="v"> puts v into the input #id (the
//   playbook's "use the median as the target").
// Delegated from the document, so content htmx swaps in later works too.
document.addEventListener("change", function (event) {
  var select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit();
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-fill-target]");
  if (!button) return;
  var input = document.getElementById(button.dataset.fillTarget);
  if (!input) return;
  input.value = button.dataset.fillValue;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
});
