// The one script: move focus to the error summary when a form comes back with errors, as
// GOV.UK Frontend does, so a screen reader hears the problems first. Pages work without it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
