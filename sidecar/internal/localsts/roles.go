package localsts

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Messages STS uses for duration violations.
const (
	msgRoleMax = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	msgChained = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)

// roleSessionRequest is everything needed to mint a role session, from any AssumeRole* path.
type roleSessionRequest struct {
	role           *roleEntry
	session        string
	duration       int
	policy         sessionPolicy
	tags           []tag
	transitive     []string
	inherited      *principal // the calling role session, when chaining
	sourceIdentity string
	mfa            bool
	mfaAt          time.Time
	minTokenSize   int
}

// mintRoleSession applies the duration and packing rules and issues the session.
func (c *call) mintRoleSession(q roleSessionRequest) (*credential, int, error) {
	if q.duration > q.role.max {
		return nil, 0, errBadRequest("ValidationError", "%s", msgRoleMax)
	}
	if q.inherited != nil && q.duration > chainedMaxDuration {
		return nil, 0, errBadRequest("ValidationError", "%s", msgChained)
	}
	// Session tags sit on top of the role's own tags and the caller's transitive ones.
	base := tagMap(q.role.cfg.Tags)
	transitive := map[string]bool{}
	var packedTags []tag
	if q.inherited != nil {
		for k := range q.inherited.transitive {
			if t, ok := q.inherited.tags[k]; ok {
				base[k] = t
				transitive[k] = true
				packedTags = append(packedTags, t)
			}
		}
	}
	packedTags = append(packedTags, q.tags...)
	for _, k := range q.transitive {
		transitive[strings.ToLower(k)] = true
	}
	packed := packedPolicySize(q.policy, packedTags)
	if packed > 100 {
		return nil, 0, errPackedTooLarge(packed)
	}
	acct := q.role.cfg.Account
	p := principal{kind: kindAssumedRole, account: acct, arn: assumedRoleARN(acct, q.role.cfg.Name, q.session),
		userID: q.role.id + ":" + q.session, name: q.session, role: q.role, tags: tagsToMap(base, q.tags),
		transitive: transitive, sourceIdentity: q.sourceIdentity}
	cr := c.s.issue(&credential{class: classRole, p: p, mfa: q.mfa, mfaAt: q.mfaAt}, c.now, seconds(q.duration), q.minTokenSize)
	return cr, packed, nil
}

// assumedRoleXML writes the AssumedRoleUser and Credentials elements of a role session.
func (b *xmlBuilder) assumedRole(cr *credential) {
	b.raw("<AssumedRoleUser>")
	b.el("AssumedRoleId", cr.p.userID)
	b.el("Arn", cr.p.arn)
	b.raw("</AssumedRoleUser>")
	b.credentials(cr)
}

func (c *call) assumeRole() (string, error) {
	p := &c.cred.p
	var v validator
	roleArn, _ := v.str(c.form, "RoleArn", "roleArn", true, 20, 2048, &patArn)
	session, _ := v.str(c.form, "RoleSessionName", "roleSessionName", true, 2, 64, &patSessionName)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", roleMinDuration, roleMaxDuration, roleDefaultDuration)
	if err != nil {
		return "", err
	}
	externalID, hasExternalID := v.str(c.form, "ExternalId", "externalId", false, 2, 1224, &patExternalID)
	serial, code, withMFA := c.mfaParams(&v)
	sourceID, hasSourceID := v.str(c.form, "SourceIdentity", "sourceIdentity", false, 2, 64, &patSessionName)
	sp := v.policyParams(c.form)
	tags, trans := v.tagParams(c.form, true)
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return "", err
	}
	switch {
	case p.kind == kindRoot && c.cred.class != classRootTask:
		return "", errAccessDenied("Roles may not be assumed by root accounts.")
	case c.cred.class == classFederated, c.cred.class == classRootTask:
		// GetFederationToken and AssumeRoot sessions may call no STS action but GetCallerIdentity.
		return "", notAuthorized(p.arn, "sts:AssumeRole", roleArn)
	}
	if err := sp.checkJSON(); err != nil {
		return "", err
	}
	if err := checkTags(tags, trans); err != nil {
		return "", err
	}
	if hasSourceID && strings.HasPrefix(strings.ToLower(sourceID), "aws:") {
		return "", errBadRequest("ValidationError", "SourceIdentity cannot start with the 'aws:' prefix.")
	}
	var inherited *principal
	if c.cred.class == classRole {
		inherited = p
	}
	// A source identity, once set, follows the chain and cannot be changed.
	if p.sourceIdentity != "" {
		if hasSourceID && sourceID != p.sourceIdentity {
			return "", errAccessDenied("The source identity %s cannot be changed once it is set; the session already has source identity %s.", sourceID, p.sourceIdentity)
		}
		sourceID = p.sourceIdentity
	}
	mfa, mfaAt := c.cred.mfa, c.cred.mfaAt
	if withMFA {
		if err := c.checkMFA(serial, code); err != nil {
			return "", err
		}
		mfa, mfaAt = true, c.now
	}
	role := c.s.roles[roleArn]
	if role == nil {
		return "", notAuthorized(p.arn, "sts:AssumeRole", roleArn)
	}

	ctx := c.callerContext()
	if withMFA {
		ctx["aws:multifactorauthpresent"] = []string{"true"}
		ctx["aws:multifactorauthage"] = []string{"0"}
	}
	ctx["sts:rolesessionname"] = []string{session}
	if hasExternalID {
		ctx["sts:externalid"] = []string{externalID}
	}
	if sourceID != "" {
		ctx["sts:sourceidentity"] = []string{sourceID}
	}
	actions := []string{"sts:AssumeRole"}
	inheritsTags := inherited != nil && len(inherited.transitive) > 0
	if len(tags) > 0 || inheritsTags {
		actions = append(actions, "sts:TagSession")
		addTagContext(ctx, tags, trans)
	}
	if sourceID != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	if ok, explicit := role.trust.decide(trustRequest{Actions: actions, Account: p.account, ARNs: p.sessionARNs(),
		Context: ctx, Expand: c.expander()}); !ok {
		return "", denied(p.arn, "sts:AssumeRole", roleArn, explicit)
	}
	cr, packed, err := c.mintRoleSession(roleSessionRequest{role: role, session: session, duration: d, policy: sp,
		tags: tags, transitive: trans, inherited: inherited, sourceIdentity: sourceID, mfa: mfa, mfaAt: mfaAt, minTokenSize: minSize})
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	if sourceID != "" {
		b.el("SourceIdentity", sourceID)
	}
	b.assumedRole(cr)
	if packed > 0 {
		b.el("PackedPolicySize", itoa(packed))
	}
	b.tokenSize(cr)
	return b.String(), nil
}

// denied is the AccessDenied of a trust policy that does not allow the call.
func denied(who, action, resource string, explicit bool) error {
	e := notAuthorized(who, action, resource)
	if explicit {
		e.message += " with an explicit deny in a resource-based policy"
	}
	return e
}

func addTagContext(ctx map[string][]string, tags []tag, trans []string) {
	var keys []string
	for _, t := range tags {
		ctx["aws:requesttag/"+strings.ToLower(t.Key)] = []string{t.Value}
		keys = append(keys, t.Key)
	}
	if len(keys) > 0 {
		ctx["aws:tagkeys"] = keys
	}
	if len(trans) > 0 {
		ctx["sts:transitivetagkeys"] = trans
	}
}

var rootTargetRE = regexp.MustCompile(`^arn:aws:iam::(\d{12}):root$`)

func (c *call) assumeRoot() (string, error) {
	p := &c.cred.p
	var v validator
	target, _ := v.str(c.form, "TargetPrincipal", "targetPrincipal", true, 12, 2048, nil)
	task, _ := v.str(c.form, "TaskPolicyArn.arn", "taskPolicyArn.arn", true, 20, 2048, &patArn)
	d, err := v.integer(c.form, "DurationSeconds", "durationSeconds", 0, assumeRootMaxDuration, assumeRootMaxDuration)
	if err != nil {
		return "", err
	}
	minSize := c.minTokenSize(&v)
	if err := v.err(); err != nil {
		return "", err
	}
	member := target
	if m := rootTargetRE.FindStringSubmatch(target); m != nil {
		member = m[1]
	}
	if !accountRE.MatchString(member) {
		return "", errBadRequest("ValidationError", "TargetPrincipal must be a member account id or arn:aws:iam::ACCOUNT:root, not %s.", target)
	}
	org := c.s.org
	if org == nil || p.account != org.ManagementAccount || !contains(org.Members, member) {
		// Only the organization's management account may take root sessions, and only in members.
		return "", notAuthorized(p.arn, "sts:AssumeRoot", rootARN(member))
	}
	if !contains(rootTaskPolicies, task) {
		return "", errBadRequest("ValidationError", "The TaskPolicyArn %s is not a root task policy. Use one of: %s.", task, strings.Join(rootTaskPolicies, ", "))
	}
	rp := principal{kind: kindRoot, account: member, arn: rootARN(member), userID: member, sourceIdentity: p.sourceIdentity}
	cr := c.s.issue(&credential{class: classRootTask, p: rp}, c.now, seconds(d), minSize)
	var b xmlBuilder
	b.credentials(cr)
	if p.sourceIdentity != "" {
		b.el("SourceIdentity", p.sourceIdentity)
	}
	b.tokenSize(cr)
	return b.String(), nil
}

func (c *call) getDelegatedAccessToken() (string, error) {
	var v validator
	token, _ := v.str(c.form, "TradeInToken", "tradeInToken", true, 1, 20000, nil)
	if err := v.err(); err != nil {
		return "", err
	}
	s := c.s
	s.mu.Lock()
	ti := s.tradeIns[token]
	used := ti != nil && ti.used
	if ti != nil {
		ti.used = true // single use: the first caller consumes it, even if issuing then fails
	}
	s.mu.Unlock()
	switch {
	case ti == nil:
		return "", errBadRequest("InvalidParameterValue", "The trade-in token is not valid.")
	case used:
		return "", &apiError{status: http.StatusBadRequest, code: "ExpiredTradeInTokenException", message: "The trade-in token has expired or has already been used."}
	}
	role := s.roles[ti.cfg.RoleArn]
	d := ti.cfg.DurationSeconds
	if d == 0 {
		d = roleDefaultDuration
	}
	session := "delegated-" + strings.ReplaceAll(c.requestID, "-", "")[:12]
	cr, _, err := c.mintRoleSession(roleSessionRequest{role: role, session: session, duration: d})
	if err != nil {
		return "", err
	}
	var b xmlBuilder
	b.el("AssumedPrincipal", cr.p.arn)
	b.credentials(cr)
	return b.String(), nil
}
