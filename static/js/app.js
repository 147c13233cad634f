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
