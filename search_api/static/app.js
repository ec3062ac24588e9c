// policykb page helpers: copy a permalink, upload a file with the token (sent as a header, never in a
// URL; without JavaScript the form posts itself). No build step, no framework.
"use strict";

document.querySelectorAll("button.copy").forEach((button) => {
  button.addEventListener("click", async () => {
    const url = new URL(button.dataset.copy, window.location.origin).href;
    try {
      await navigator.clipboard.writeText(url);
      button.textContent = "已复制";
    } catch (error) {
      window.prompt("复制这个链接：", url);
    }
  });
});

const uploadForm = document.getElementById("upload");
if (uploadForm) {
  uploadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("upload-result");
    const data = new FormData();
    data.append("file", uploadForm.elements.file.files[0]);
    result.textContent = "正在上传并导入……";
    const replace = uploadForm.elements.replace.value.trim();
    const endpoint = uploadForm.dataset.endpoint + (replace ? "?replace=" + encodeURIComponent(replace) : "");
    const response = await fetch(endpoint, {
      method: "POST",
// On a phone the outline starts folded, so the matrix and the text come first.
const outline = document.querySelector("details.outline");
if (outline && window.matchMedia("(max-width: 800px)").matches) outline.open = false;

      headers: { Authorization: "Bearer " + uploadForm.elements.token.value },
      body: data,
    });
    const body = await response.json();
    result.textContent = "";
    if (response.ok) {
      const statusText = { added: "已导入", replaced: "已更新为新版本", unchanged: "内容未变，无需导入", older: "库中已有更新的版本" };
      const link = document.createElement("a");
      link.href = body.permalink;
      link.textContent = body.title;
      result.append((statusText[body.status] || body.status) + "：", link, `（${body.clauses} 个条款）`);
    } else {
      result.textContent = "上传失败：" + body.error.message;
      result.className = "error";
    }
  });
}
