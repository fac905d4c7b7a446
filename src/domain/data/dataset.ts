/** A registered image folder in the dogImages layout: {train,valid,test}/<NNN.Class_name>/*.jpg */
export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface Dataset {
  name: string;
  /** Absolute path of the folder holding the split folders. */
  path: string;
  /** Class folder names in label order (index = label index). */
  classes: string[];
  /** Image counts per split. */
  counts: Record<Split, number>;
  createdAtMs: number;
}
