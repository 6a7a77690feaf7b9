/* A "Preview" button under each Markdown field of the admin: posts the text
   to /preview/markdown/ and shows the sanitised HTML below the field.
   Without JavaScript, "Save and preview" shows the whole page instead. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function attach(textarea) {
    var url = textarea.getAttribute("data-markdown-preview");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button md-preview-button";
    button.textContent = "Preview";
    button.setAttribute("aria-controls", textarea.id + "-preview");
    var output = document.createElement("div");
    output.id = textarea.id + "-preview";
    output.className = "md-preview";
    output.hidden = true;
    output.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", output);
    textarea.insertAdjacentElement("afterend", button);

    button.addEventListener("click", function () {
      if (!output.hidden) {
        output.hidden = true;
        button.textContent = "Preview";
        return;
      }
      var body = new URLSearchParams();
      body.append("text", textarea.value);
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea.form) },
        body: body,
      })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          // Sanitised on the server (k2site.markdown, nh3).
          output.innerHTML = html;
          output.hidden = false;
          button.textContent = "Hide preview";
        })
        .catch(function (error) {
          output.textContent = "Preview failed (" + error.message + "). Use “Save and preview” instead.";
          output.hidden = false;
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-markdown-preview]").forEach(attach);
  });
})();
