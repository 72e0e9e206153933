import { describe, expect, it } from '@jest/globals';
import { filterToSql, sqlColumn, sqlIdList, sqlString } from './lancedb-sql.ts';

describe('LanceDB SQL building', () => {
  it('doubles single quotes so a value can never end its literal', () => {
    expect(sqlString("o'brien")).toBe("'o''brien'");
    expect(sqlString("x' OR '1'='1")).toBe("'x'' OR ''1''=''1'");
    expect(sqlString('back\\slash')).toBe("'back\\slash'");
  });

  it('quotes column names with backticks and refuses anything but identifiers', () => {
    expect(sqlColumn('tenantId')).toBe('`tenantId`');
    expect(() => sqlColumn('a` OR 1=1')).toThrow();
  });

  it('builds IN lists only from UUIDs, lowercased', () => {
    expect(sqlIdList(['0F0E0D0C-0000-4000-8000-000000000001'])).toBe("('0f0e0d0c-0000-4000-8000-000000000001')");
    expect(() => sqlIdList(["1') OR ('1'='1"])).toThrow(/UUID/);
  });

  it('ANDs every set field and leaves unset ones out', () => {
    expect(filterToSql({})).toBeUndefined();
    expect(filterToSql({ tenantId: 't', knowledgeBaseId: 'k', documentId: 'd', contentTypes: ['page', 'case'] })).toBe(
      "`tenantId` = 't' AND `knowledgeBaseId` = 'k' AND `documentId` = 'd' AND `contentType` IN ('page', 'case')",
    );
    expect(filterToSql({ tenantId: 't', contentTypes: [] })).toBe("`tenantId` = 't'");
  });
});
