# Diagnosis, comparison and QCA pages (issue 8) — English. Keys shared with ur/diagnosis.ftl.
dx-link = What makes it work: the diagnosis
dx-title = What makes it work
dx-intro = The conditions of co-production measured from what the partners actually did: each is a set membership from 0 (out) to 1 (in), calibrated from the indicators below; under 0.5 is weak.
dx-at = Measured at
dx-compare-link = Compare with other initiatives
dx-profile = Profile of the conditions
dx-profile-caption = Membership in each condition; the dashed line is the crossover (0.5). Red bars are weak.
dx-condition = Condition
dx-membership = Membership
dx-none-weak = No condition is weak.
dx-weak = Weak
dx-next = What the rules say should happen next
dx-who = Who
dx-rule-says = The rule
dx-status = Status
dx-overdue = Days overdue
dx-or-else = Otherwise
dx-scheme = scheme
dx-status-open = open
dx-status-overdue = overdue
dx-status-breached = breached
dx-evidence = The evidence, condition by condition
dx-indicator = Indicator
dx-value = Value
dx-events = Events
dx-more = and { $n } more
dx-by-arrangement = defined by the arrangement
dx-over-time = Over time
dx-per-scheme = Per scheme
dx-breached = Obligations breached
dx-due = due
dx-words = In the partners' own words
dx-words-partners = Coded passages from interviews and documents are shown to partners of the initiative when signed in.
dx-anchors-note = Anchors are full exclusion / crossover / full inclusion (the direct method); the API accepts other anchors per analysis.
dx-arrangement = Arrangement
dx-district = Locality
dx-schemes = Schemes
dx-households = Households
cond-formal_structures = Formal structures
cond-political_commitment = Political commitment
cond-bureaucratic_commitment = Bureaucratic commitment
cond-community_willingness = Community willingness
cond-trust = Trust
cond-resources = Resources
cond-service_delivered_and_sustained = Outcome: service delivered and sustained
cond-context = Context
cmp-title = Compare initiatives
cmp-intro = Initiatives side by side in the IAD frame: their context, the rules in use rule by rule, the patterns of interaction (the indicators) and the outcomes.
cmp-choose = Initiatives
cmp-find = Find initiatives
cmp-name = Name contains
cmp-area = District or area contains
cmp-stage = With a scheme at stage
cmp-any-stage = any stage
cmp-find-go = Find
cmp-matching = { $n ->
    [one] 1 initiative matches
   *[other] { $n } initiatives match
}
cmp-carried = { $n ->
    [one] 1 more ticked initiative is kept from other pages.
   *[other] { $n } more ticked initiatives are kept from other pages.
}
cmp-prev = previous
cmp-next = next
cmp-page = page { $n }
cmp-go-all = { $n ->
    [one] Compare the 1 that matches
   *[other] Compare all { $n } that match
}
cmp-grouped = { $n } initiatives: shown per arrangement, as the mean over its initiatives; beside each figure, (cases measured / cases) for indicators and (cases weak / cases measured) for conditions. The CSV has every initiative.
cmp-group-name = { $name } ({ $n })
cmp-initiatives = Initiatives
cmp-districts = Districts
cmp-or-arrangements = Under these arrangements (compare all that match to set one arrangement against another)
cmp-go = Compare the ticked initiatives
cmp-report = Printable report
cmp-report-title = Comparative case table
cmp-report-frame = Institutional Analysis and Development (IAD) frame, from live data. Memberships under 0.5 are marked.
cmp-print-hint = Use your browser's Print to save this report as PDF.
iad-context = Context: biophysical and community attributes
iad-rules = Rules in use
iad-rules-differ = { $n ->
    [one] 1 rule differs between the arrangements (marked ≠).
   *[other] { $n } rules differ between the arrangements (marked ≠).
}
iad-rule-type = Rule type
iad-item = Item
iad-patterns = Patterns of interaction
iad-outcomes = Outcomes and the conditions behind them
iad-outcomes-note = Set memberships (0–1) of each condition and of the outcome.
iad-boundary = boundary
iad-position = position
iad-scope = scope
iad-choice = choice
iad-aggregation = aggregation
iad-information = information
iad-payoff = payoff
qca-title = QCA across initiatives
qca-intro = Qualitative comparative analysis on the calibrated conditions of the initiatives: which combinations of conditions go with the service being delivered and sustained. Every case links to its diagnosis.
qca-arrangements = Only these arrangements (comma-separated, empty for all)
qca-incl-cut = Inclusion cut
qca-remainders = Use remainders (parsimonious solution)
qca-go = Run
qca-truth-table = Truth table
qca-cases = Cases
qca-solution = Solution
qca-no-solution = No solution:
qca-term = Term
qca-unique = unique cov
qca-covered = Cases covered
qca-excluded = Left out (a condition could not be measured)
