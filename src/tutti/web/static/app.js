// Upload progress and small comforts for the cooperative's pages. No inline scripts: the pages' Content
// Security Policy allows only files served from here.
(function () {
  "use strict";

  function uploadForm(event) {
    var target = event.target;
    return target && target.closest ? target.closest("form[data-upload]") : null;
  }

  function sizeText(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MiB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KiB";
    return bytes + " bytes";
  }

  // List the chosen files with their sizes, so a wrong pick is seen before uploading.
  document.addEventListener("change", function (event) {
    var form = uploadForm(event);
    if (!form || event.target.type !== "file") return;
    var list = form.querySelector("[data-chosen]");
    if (!list) return;
    list.textContent = "";
    Array.prototype.forEach.call(event.target.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " · " + sizeText(file.size);
      list.appendChild(item);
    });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    form.dataset.uploaded = "";
    var box = form.querySelector("[data-progress]");
    var bar = box.querySelector("progress");
    bar.value = 0;
    box.querySelector("[data-progress-label]").textContent = "Uploading… 0 %";
    box.hidden = false;
    form.querySelector("[data-submit]").disabled = true;
    var result = document.getElementById("result");
    if (result) result.textContent = "";
  });

  // htmx reports upload and download progress alike; once the upload is complete, the rest is the answer.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    var detail = event.detail;
    if (!form || form.dataset.uploaded || !detail.lengthComputable || !detail.total) return;
    var box = form.querySelector("[data-progress]");
    var bar = box.querySelector("progress");
    var label = box.querySelector("[data-progress-label]");
    var percent = Math.floor((100 * detail.loaded) / detail.total);
    if (percent >= 100) {
      form.dataset.uploaded = "yes";
      bar.removeAttribute("value");
      label.textContent = "Uploaded. Checking your export…";
    } else {
      bar.value = percent;
      label.textContent = "Uploading… " + percent + " % of " + sizeText(detail.total);
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    form.querySelector("[data-progress]").hidden = true;
    form.querySelector("[data-submit]").disabled = false;
    if (event.detail.xhr && event.detail.xhr.status < 400) {
      form.reset();
      var list = form.querySelector("[data-chosen]");
      if (list) list.textContent = "";
    }
  });

  // A new token is selected on focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select]")) event.target.select();
  });
})();
