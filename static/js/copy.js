// "Copy" buttons (data-copy="#input"): shown only where the clipboard can be written.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  var input = document.querySelector(button.getAttribute("data-copy"));
  if (!input || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(input.value).then(function () {
      button.textContent = "Copied";
    });
  });
  input.addEventListener("focus", function () { input.select(); });
});
