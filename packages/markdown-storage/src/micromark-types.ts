// Type declarations for the GFM token types and compile data that our handlers use. The GFM
// extension packages declare these themselves, but they are transitive dependencies that TypeScript
// cannot see from this package under pnpm's strict layout, so the same augmentation is repeated here.

/** Column alignment of a GFM table, as micromark-extension-gfm-table records it. */
export type TableAlign = "left" | "right" | "center" | "none";

declare module "micromark-util-types" {
  interface TokenTypeMap {
    gfmFootnoteCallString: "gfmFootnoteCallString";
    gfmFootnoteDefinition: "gfmFootnoteDefinition";
    gfmFootnoteDefinitionLabelString: "gfmFootnoteDefinitionLabelString";
    literalAutolink: "literalAutolink";
    literalAutolinkEmail: "literalAutolinkEmail";
    strikethrough: "strikethrough";
    table: "table";
    tableData: "tableData";
    tableHeader: "tableHeader";
    tableRow: "tableRow";
    taskListCheck: "taskListCheck";
    taskListCheckValueChecked: "taskListCheckValueChecked";
    taskListCheckValueUnchecked: "taskListCheckValueUnchecked";
  }
  interface CompileData {
    tableAlign?: Array<TableAlign> | undefined;
    tableColumn?: number | undefined;
  }
}
