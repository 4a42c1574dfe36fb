// TEMPORARY STUB (lead); overwritten by the Prompter work.
export type PrompterOptions = object;
export type PrompterInstance = object;
export type PrompterStatic = object;
export declare const Prompter: PrompterStatic;
