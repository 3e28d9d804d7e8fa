import { type Database, findLab } from "@labnet/db";
import { type LabTemplate, studentsOf, type TemplateStudents } from "@labnet/labs";

/** A lab's spec never changes once made: what its students may do is remembered by lab id. */
const remembered = new Map<string, TemplateStudents>();
const MAX_REMEMBERED = 1_000;

/** What a lab's students may change, and their limits (its template's `students`, else the defaults). */
export async function studentRulesOf(db: Database, labId: string): Promise<TemplateStudents> {
  const hit = remembered.get(labId);
  if (hit) {
    return hit;
  }
  const lab = await findLab(db, labId);
  const spec = lab?.spec as Partial<LabTemplate> | undefined;
  const rules =
    spec?.students ??
    studentsOf({
      machines: spec?.machines ?? {},
      networks: spec?.networks ?? {},
      services: spec?.services ?? {},
    });
  if (!lab) {
    return rules;
  }
  if (remembered.size >= MAX_REMEMBERED) {
    remembered.clear();
  }
  remembered.set(labId, rules);
  return rules;
}
