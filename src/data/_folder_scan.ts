/**
 * Internal: lists an image folder. Sub-folders are classes (labelled), or the images sit directly in
 * the folder (unlabelled). Symbolic links are followed to files and folders; a dangling link, a link
 * that loops onto itself, or a folder link back to one of its own ancestors is an error naming the
 * link, so that nothing is skipped silently (a linked class folder still counts as a class).
 *
 * @module
 */
import { DataFileError } from "./dataset.ts";

/** Extensions read as images. */
export const IMAGE_FILE = /\.(jpe?g|png)$/i;

/** What `scanFolder` found. */
export interface FolderListing {
  /** Image paths (root + relative path), sorted by class, then by path. */
  files: string[];
  /** One class index per file, or null for an unlabelled folder. */
  labels: Int32Array | null;
  /** Class names (sub-folder names, sorted), or null. */
  classes: string[] | null;
}

interface Entry {
  name: string;
  path: string;
  isDirectory: boolean;
}

/** The kind of `path` after following symbolic links, with an error naming a broken or looping link. */
async function follow(path: string, isSymlink: boolean): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (!isSymlink) throw new DataFileError(path, `cannot be read (${(e as Error).message})`, { cause: e });
    const target = await Deno.readLink(path).catch(() => "?");
    const loop = e instanceof Deno.errors.FilesystemLoop || /loop|too many levels/i.test((e as Error).message);
    const problem = loop
      ? `is a symbolic link (to ${target}) that loops back onto itself`
      : `is a dangling symbolic link (to ${target}, which does not exist)`;
    throw new DataFileError(path, problem, { cause: e });
  }
}

/** Entries of `dir` (hidden ones and `skip` left out), links followed, sorted by name. */
async function entries(dir: string, skip: string | null): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".") || e.name === skip) continue;
    const path = `${dir}/${e.name}`;
    const isDirectory = e.isSymlink ? (await follow(path, true)).isDirectory : e.isDirectory;
    out.push({ name: e.name, path, isDirectory });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Appends the images under `dir` (recursive); `ancestors` holds the real paths of the folders above. */
async function listImages(dir: string, ancestors: Set<string>, out: string[]): Promise<void> {
  const real = await Deno.realPath(dir);
  if (ancestors.has(real)) {
    throw new DataFileError(dir, `leads back to ${real}, a folder that contains it (a symbolic link loop)`);
  }
  ancestors.add(real);
  for (const e of await entries(dir, null)) {
    if (e.isDirectory) await listImages(e.path, ancestors, out);
    else if (IMAGE_FILE.test(e.name)) out.push(e.path);
  }
  ancestors.delete(real);
}

/**
 * Lists `root`: with sub-folders, each is a class (images found recursively); without, the images
 * in it are unlabelled. Images at the top next to class folders are an error (they would have no class).
 *
 * @param root The folder.
 * @param skip A top-level name to leave out (a cache folder inside the root), or null.
 * @throws {DataFileError} For a missing folder, no images, stray top-level images, or a broken link.
 */
export async function scanFolder(root: string, skip: string | null = null): Promise<FolderListing> {
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new Error("not a folder");
  } catch (e) {
    throw new DataFileError(root, "no such folder", { cause: e });
  }
  const top = await entries(root, skip);
  const classes = top.filter((e) => e.isDirectory);
  const ancestors = new Set([await Deno.realPath(root)]);
  const files: string[] = [];
  if (classes.length === 0) {
    for (const e of top) if (IMAGE_FILE.test(e.name)) files.push(e.path);
    if (files.length === 0) throw new DataFileError(root, "has no JPEG or PNG images and no class folders");
    return { files, labels: null, classes: null };
  }
  const stray = top.filter((e) => !e.isDirectory && IMAGE_FILE.test(e.name)).map((e) => e.name);
  if (stray.length > 0) {
    throw new DataFileError(
      root,
      `has class folders and also images outside them (${stray.slice(0, 3).join(", ")}): move them into a class folder`,
    );
  }
  const labels: number[] = [];
  for (const [k, c] of classes.entries()) {
    const before = files.length;
    await listImages(c.path, ancestors, files);
    for (let i = before; i < files.length; i++) labels.push(k);
  }
  if (files.length === 0) {
    throw new DataFileError(
      root,
      `has class folders (${classes.map((c) => c.name).join(", ")}) but no JPEG or PNG images`,
    );
  }
  return { files, labels: Int32Array.from(labels), classes: classes.map((c) => c.name) };
}
