/** Saves a Blob as a file through a temporary link. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The download has its own reference once started; free ours after the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
