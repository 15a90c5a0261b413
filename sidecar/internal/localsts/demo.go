package localsts

import "strings"

// DemoMFA is the demo user's first MFA device and the code the local STS accepts for it.
func (c *Config) DemoMFA() (serial, code string) {
	acct, name, _ := strings.Cut(c.Demo.User, "/")
	for _, u := range c.Users {
		if u.Account == acct && u.Name == name && len(u.MFA) > 0 {
			return u.MFA[0].Serial, u.MFA[0].Code
		}
	}
	return "", ""
}

// DemoMember is the first member account of the organization, the AssumeRoot target of the demo.
func (c *Config) DemoMember() string {
	if c.Organization == nil || len(c.Organization.Members) == 0 {
		return ""
	}
	return c.Organization.Members[0]
}

// DemoTradeInToken is the first trade-in token GetDelegatedAccessToken accepts (once).
func (c *Config) DemoTradeInToken() string {
	if len(c.TradeInTokens) == 0 {
		return ""
	}
	return c.TradeInTokens[0].Token
}
