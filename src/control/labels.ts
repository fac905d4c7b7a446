import { classLabel } from '../domain/data/layout.ts';

/** The labels artifact: class folders in label order with their human-readable names. */
export interface LabelsDocument {
  classes: { index: number; folder: string; label: string }[];
}

export function labelsDocument(folders: readonly string[]): LabelsDocument {
  return { classes: folders.map((folder, index) => ({ index, folder, label: classLabel(folder) })) };
}
