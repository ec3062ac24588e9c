// policykb page helpers: copy a citation or a permalink, fold the document outline on phones, upload a
// file with the token (sent as a header, never in a URL; without JavaScript the form posts itself).
// No build step, no framework.
"use strict";

// Copy `data-copy` (or the value of the input named by `data-copy-from`). Where the clipboard API is
// missing (plain http, an old browser) the input's text is selected for Ctrl+C; a bare link is offered in a prompt.
document.querySelectorAll("button.copy").forEach((button) => {
  button.addEventListener("click", async () => {
    const source = button.dataset.copyFrom ? document.getElementById(button.dataset.copyFrom) : null;
    const text = source ? source.value : new URL(button.dataset.copy, window.location.origin).href;
    const note = document.getElementById("copy-note");
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "已复制";
      if (note) note.textContent = "";
    } catch (error) {
      if (!source) {
        window.prompt("复制这个链接：", text);
        return;
      }
      source.focus();
      source.select();
      if (note) note.textContent = "浏览器不允许直接复制：文字已选中，请按 Ctrl+C（手机上长按）复制";
    }
  });
});

// On a phone the outline starts folded, so the matrix and the text come first.
const outline = document.querySelector("details.outline");
if (outline && window.matchMedia("(max-width: 800px)").matches) outline.open = false;

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
