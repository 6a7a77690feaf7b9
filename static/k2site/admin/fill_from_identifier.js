/* "Fill from DOI or PMID" on the study form: a button after the DOI field
   asks the site (admin/studies/study/lookup/?id=…, studies/lookup.py), which
   asks Crossref or PubMed. Empty fields are filled; fields the editor has
   already filled with something else are listed and replaced only if the
   editor says so. A failed lookup is explained under the field and changes
   nothing. Without JavaScript there is no button and the form works as
   before: type the fields by hand. */
(function () {
  "use strict";

  // Form fields a lookup may fill, in the form's order.
  var FIELDS = [
    "title", "paper_title", "authors", "journal", "publisher", "year", "month",
    "volume", "issue", "pages", "doi", "pmid", "abstract", "study_type",
  ];
  var PREVIEW = 60;

  function lookupUrl() {
    // The view sits next to the add and change pages of studies.
    var path = window.location.pathname;
    var marker = "/studies/study/";
    var at = path.indexOf(marker);
    return at < 0 ? null : path.slice(0, at + marker.length) + "lookup/";
  }

  function squash(text) {
    return String(text || "").replace(/\s+/g, " ").trim();
  }

  function normalDoi(text) {
    return squash(text).replace(/^(https?:\/\/(dx\.)?doi\.org\/|doi:\s*|doi\s+)/i, "").replace(/\s+/g, "").toLowerCase();
  }

  function normalPmid(text) {
    return squash(text).replace(/^(pmid:?\s*|https?:\/\/pubmed\.ncbi\.nlm\.nih\.gov\/)/i, "").replace(/\/+$/, "").trim();
  }

  // The same value, as far as the editor is concerned.
  function same(name, current, found) {
    if (name === "authors") {
      var lines = function (text) {
        return String(text || "").split("\n").map(squash).filter(Boolean).join("\n");
      };
      return lines(current) === lines(found);
    }
    if (name === "doi") { return normalDoi(current) === normalDoi(found); }
    if (name === "pmid") { return normalPmid(current) === normalPmid(found); }
    return squash(current) === squash(found);
  }

  function isEmpty(name, element) {
    // "Other" is the type a new study starts with: it says nothing yet.
    if (name === "study_type") { return !element.value || element.value === "other"; }
    return squash(element.value) === "";
  }

  function labelOf(name, element) {
    var label = document.querySelector("label[for='" + element.id + "']");
    var text = label ? squash(label.textContent).replace(/:$/, "") : name;
    return text || name;
  }

  function shown(element, value) {
    if (element.tagName === "SELECT") {
      var option = Array.prototype.find.call(element.options, function (o) { return o.value === value; });
      if (option) { value = option.textContent; }
    }
    value = squash(value);
    return value.length > PREVIEW ? value.slice(0, PREVIEW - 1) + "…" : value;
  }

  function setValue(element, value) {
    if (element.tagName === "SELECT") {
      var known = Array.prototype.some.call(element.options, function (o) { return o.value === value; });
      if (!known) { return false; }
    }
    element.value = value;
    // The admin's own scripts (the slug from the title) listen for these.
    element.dispatchEvent(new Event("input", { bubbles: true }));
    element.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function attach(doiInput) {
    var url = lookupUrl();
    if (!url || doiInput.readOnly || doiInput.disabled) { return; }
    var form = doiInput.form;
    var pmidInput = form && form.querySelector("#id_pmid");

    var button = document.createElement("button");
    button.type = "button";
    button.className = "button fill-from-identifier";
    button.textContent = "Fill from DOI or PMID";
    var status = document.createElement("p");
    status.className = "help fill-from-identifier-status";
    status.id = "fill-from-identifier-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    button.setAttribute("aria-describedby", status.id);
    doiInput.insertAdjacentElement("afterend", button);
    // Under the field's row, where help text goes (the row is a flex line).
    var row = doiInput.closest(".flex-container") || doiInput.parentElement;
    row.insertAdjacentElement("afterend", status);

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("errornote", Boolean(isError));
    }

    function apply(fields, source) {
      var filled = [];
      var conflicts = [];
      FIELDS.forEach(function (name) {
        if (!Object.prototype.hasOwnProperty.call(fields, name)) { return; }
        var element = form.querySelector("#id_" + name);
        if (!element || element.readOnly || element.disabled) { return; }
        var value = String(fields[name]);
        if (same(name, element.value, value)) {
          // The identifier in its canonical form, without asking: it is the same one.
          if ((name === "doi" || name === "pmid") && element.value !== value) { setValue(element, value); }
          return;
        }
        if (isEmpty(name, element)) {
          if (setValue(element, value)) { filled.push(labelOf(name, element)); }
        } else {
          conflicts.push({ name: name, element: element, value: value });
        }
      });
      var replaced = [];
      var kept = [];
      if (conflicts.length) {
        var list = conflicts.map(function (c) {
          return "• " + labelOf(c.name, c.element) + ": “" + shown(c.element, c.element.value) + "” → “" +
            shown(c.element, c.value) + "”";
        }).join("\n");
        var question = source + " has other values for fields you have already filled in:\n\n" + list +
          "\n\nReplace them? OK replaces them; Cancel keeps what you typed. " +
          (filled.length ? "The empty fields have been filled either way." : "");
        var replace = window.confirm(question);
        conflicts.forEach(function (c) {
          if (replace && setValue(c.element, c.value)) {
            replaced.push(labelOf(c.name, c.element));
          } else {
            kept.push(labelOf(c.name, c.element));
          }
        });
      }
      var parts = [];
      if (filled.length) { parts.push("Filled from " + source + ": " + filled.join(", ") + "."); }
      if (replaced.length) { parts.push("Replaced: " + replaced.join(", ") + "."); }
      if (kept.length) { parts.push("Kept what you typed: " + kept.join(", ") + "."); }
      if (!parts.length) { parts.push(source + " has nothing the form doesn't already say."); }
      say(parts.join(" ") + " Check the fields, then save.", false);
    }

    button.addEventListener("click", function () {
      var identifier = squash(doiInput.value) || (pmidInput ? squash(pmidInput.value) : "");
      if (!identifier) {
        say("Type a DOI in the DOI field (or a PubMed ID in the PMID field) first.", true);
        (doiInput.value ? pmidInput : doiInput).focus();
        return;
      }
      button.disabled = true;
      say("Looking up " + identifier + "…", false);
      fetch(url + "?id=" + encodeURIComponent(identifier), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") < 0) {
            throw new Error("The lookup failed (HTTP " + response.status + "). Your session may have ended: " +
              "reload the page and log in again.");
          }
          return response.json().then(function (data) {
            if (!response.ok || data.error) {
              throw new Error(data.error || "The lookup failed (HTTP " + response.status + ").");
            }
            return data;
          });
        }, function () {
          throw new Error("No network: the site could not be reached. Check the connection and try again.");
        })
        .then(function (data) {
          apply(data.fields || {}, data.source || "The lookup");
        })
        .catch(function (error) {
          say(error.message, true);
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var doiInput = document.querySelector("form#study_form #id_doi");
    if (doiInput) { attach(doiInput); }
  });
})();
