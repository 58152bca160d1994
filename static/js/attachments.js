// Images for vision models: a button, drag-and-drop and paste add them; each is
// uploaded at once and shown as a thumbnail that can be removed before sending.

import { api } from "./api.js";
import { formatInt, formatMegabytes } from "./format.js";
import { t, tn } from "./i18n.js";
import { iconButton } from "./icons.js";

const ACCEPTED = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);
const MAX_MEGABYTES = 10;
const MAX_BYTES = MAX_MEGABYTES * 1024 * 1024;
const MAX_FILES = 10;

export class Attachments {
  // onChange() runs whenever the list or an upload's state changes; onError(text) reports.
  constructor(form, { onChange, onError }) {
    this.form = form;
    this.onChange = onChange;
    this.onError = onError;
    this.button = form.querySelector("[data-attach]");
    this.input = form.querySelector("[data-attach-input]");
    this.strip = form.querySelector("[data-attachment-strip]");
    this.items = []; // {file, url, id, state: "uploading"|"ready"|"failed", node}
    this.enabled = false;
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.add([...this.input.files]);
      this.input.value = "";
    });
    form.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.add(files);
    });
    form.addEventListener("dragover", (event) => {
      if (![...(event.dataTransfer?.types ?? [])].includes("Files")) return;
      event.preventDefault();
      form.classList.add("is-dropping");
    });
    form.addEventListener("dragleave", (event) => {
      if (!form.contains(event.relatedTarget)) form.classList.remove("is-dropping");
    });
    form.addEventListener("drop", (event) => {
      form.classList.remove("is-dropping");
      const files = [...(event.dataTransfer?.files ?? [])];
      if (!files.length) return;
      event.preventDefault();
      this.add(files);
    });
  }

  // Vision models take images; for others the button says why it is off.
  setModel(model) {
    this.enabled = Boolean(model?.vision);
    this.button.disabled = !this.enabled;
    const label = this.enabled
      ? t("Attach images")
      : model?.label
        ? t("%(model)s can't read images; pick a vision model to attach some", {
            model: model.label,
          })
        : t("This model can't read images; pick a vision model to attach some");
    this.button.setAttribute("aria-label", label);
    this.button.title = label;
    this.strip.classList.toggle("is-unusable", !this.enabled && this.items.length > 0);
  }

  add(files) {
    if (!this.enabled) {
      this.onError(this.button.title);
      return;
    }
    for (const file of files) {
      if (this.items.length >= MAX_FILES) {
        this.onError(
          tn(
            "At most %(count)s image per message.",
            "At most %(count)s images per message.",
            MAX_FILES,
            { count: formatInt(MAX_FILES) },
          ),
        );
        break;
      }
      if (!ACCEPTED.has(file.type)) {
        this.onError(
          file.name
            ? t("%(name)s is not a PNG, JPEG, WEBP or GIF image.", { name: file.name })
            : t("That file is not a PNG, JPEG, WEBP or GIF image."),
        );
        continue;
      }
      if (file.size > MAX_BYTES) {
        const size = formatMegabytes(MAX_MEGABYTES);
        this.onError(
          file.name
            ? t("%(name)s is larger than %(size)s.", { name: file.name, size })
            : t("That image is larger than %(size)s.", { size }),
        );
        continue;
      }
      this.upload({ file, url: URL.createObjectURL(file), id: null, state: "uploading" });
    }
  }

  async upload(item) {
    item.node = this.thumbnail(item);
    this.items.push(item);
    this.strip.append(item.node);
    this.render();
    try {
      item.id = (await api.upload(item.file)).id;
      item.state = "ready";
    } catch (error) {
      item.state = "failed";
      this.onError(error.message);
      this.remove(item);
      return;
    }
    this.render();
  }

  thumbnail(item) {
    const node = document.createElement("div");
    node.className = "attachment-chip";
    const image = document.createElement("img");
    image.src = item.url;
    image.alt = item.file.name || t("Image to send");
    const label = item.file.name
      ? t("Remove %(name)s", { name: item.file.name })
      : t("Remove this image");
    const remove = iconButton("close", label, { className: "chip-remove" });
    remove.addEventListener("click", () => this.remove(item));
    node.append(image, remove);
    return node;
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.node.remove();
    URL.revokeObjectURL(item.url);
    this.render();
  }

  render() {
    for (const item of this.items) {
      item.node.classList.toggle("is-uploading", item.state === "uploading");
    }
    this.strip.hidden = this.items.length === 0;
    this.strip.classList.toggle("is-unusable", !this.enabled && this.items.length > 0);
    this.onChange();
  }

  get isUploading() {
    return this.items.some((item) => item.state === "uploading");
  }

  get count() {
    return this.items.length;
  }

  ids() {
    return this.items.filter((item) => item.state === "ready").map((item) => item.id);
  }

  clear() {
    for (const item of [...this.items]) this.remove(item);
  }
}
