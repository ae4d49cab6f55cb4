// SPDX-License-Identifier: GPL-2.0-only
///
/// set_memory_*(), set_pages_*() and set_direct_map_*() change the kernel's
/// page tables and can fail, for one when a large mapping must be split
/// and no page-table page can be had.  A caller that drops the result
/// leaves pages with permissions or a presence it did not ask for, and
/// nobody learns of it (KSPP issue 7).  Find calls whose result is
/// ignored, cast away, stored and never read, or only warned about.
///
/// patch mode turns a dropped result into WARN_ON_ONCE(), so that the
/// failure is seen at least; the caller still needs a real error path.
///
// Confidence: High
// Copyright: (C) 2026 directmap developers
// Comments: the wrappers in the headers that pass a result on are fine
// Options: --no-includes --include-headers

virtual patch
virtual context
virtual org
virtual report

@ignored depends on !patch@
identifier f =~ "^(set_memory_(ro|rw|x|nx|rox|np|p|4k|uc|wc|wt|wb|encrypted|decrypted|valid|np_noalias|global|nonglobal)|set_pages_(ro|rw|x|nx|uc|wb|array_uc|array_wc|array_wt|array_wb)|set_direct_map(_(invalid_noflush|default_noflush|valid_noflush|split_pud|collapse_pmd|collapse_pud|restore))?)$";
position p;
@@

(
* f@p(...);
|
* (void)f@p(...);
)

@dropped depends on !patch@
identifier f =~ "^(set_memory_(ro|rw|x|nx|rox|np|p|4k|uc|wc|wt|wb|encrypted|decrypted|valid|np_noalias|global|nonglobal)|set_pages_(ro|rw|x|nx|uc|wb|array_uc|array_wc|array_wt|array_wb)|set_direct_map(_(invalid_noflush|default_noflush|valid_noflush|split_pud|collapse_pmd|collapse_pud|restore))?)$";
local idexpression ret;
expression E;
position p;
@@

* ret = f@p(...);
  ... when != ret
      when strict
  ret = E

@warned depends on !patch@
identifier f =~ "^(set_memory_(ro|rw|x|nx|rox|np|p|4k|uc|wc|wt|wb|encrypted|decrypted|valid|np_noalias|global|nonglobal)|set_pages_(ro|rw|x|nx|uc|wb|array_uc|array_wc|array_wt|array_wb)|set_direct_map(_(invalid_noflush|default_noflush|valid_noflush|split_pud|collapse_pmd|collapse_pud|restore))?)$";
identifier w =~ "^(WARN_ON|WARN_ON_ONCE|BUG_ON|VM_WARN_ON|VM_WARN_ON_ONCE)$";
position p;
@@

* w(f@p(...));

@fix depends on patch@
identifier f =~ "^(set_memory_(ro|rw|x|nx|rox|np|p|4k|uc|wc|wt|wb|encrypted|decrypted|valid|np_noalias|global|nonglobal)|set_pages_(ro|rw|x|nx|uc|wb|array_uc|array_wc|array_wt|array_wb)|set_direct_map(_(invalid_noflush|default_noflush|valid_noflush|split_pud|collapse_pmd|collapse_pud|restore))?)$";
expression list args;
@@

(
- f(args);
+ WARN_ON_ONCE(f(args));
|
- (void)f(args);
+ WARN_ON_ONCE(f(args));
)

@script:python depends on org@
p << ignored.p;
f << ignored.f;
@@
coccilib.org.print_todo(p[0], "ignored: result of %s() dropped" % f)

@script:python depends on org@
p << dropped.p;
f << dropped.f;
@@
coccilib.org.print_todo(p[0], "dropped: result of %s() stored, never read" % f)

@script:python depends on org@
p << warned.p;
f << warned.f;
@@
coccilib.org.print_todo(p[0], "warned: result of %s() only warned about" % f)

@script:python depends on report@
p << ignored.p;
f << ignored.f;
@@
coccilib.report.print_report(p[0], "ignored: result of %s() dropped" % f)

@script:python depends on report@
p << dropped.p;
f << dropped.f;
@@
coccilib.report.print_report(p[0], "dropped: result of %s() stored, never read" % f)

@script:python depends on report@
p << warned.p;
f << warned.f;
@@
coccilib.report.print_report(p[0], "warned: result of %s() only warned about" % f)
