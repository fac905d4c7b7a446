/** The labels artifact: class folders in label order with their human-readable names. */
export interface LabelsDocument {
  classes: { index: number; folder: string; label: string }[];
}

/** `001.Red_circles` → `Red circles`; folders without the `NNN.` prefix keep their name. */
export function labelFromFolder(folder: string): string {
  const match = /^\d+\.(.+)$/.exec(folder);
  return (match ? match[1] : folder).replace(/_/g, ' ');
}

export function labelsDocument(folders: readonly string[]): LabelsDocument {
  return { classes: folders.map((folder, index) => ({ index, folder, label: labelFromFolder(folder) })) };
}
