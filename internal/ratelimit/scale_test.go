package ratelimit

import (
	"testing"
	"time"
)

func TestScaled(t *testing.T) {
	if got := Defaults().Scaled(1); got != Defaults() {
		t.Errorf("Scaled(1) changed the rules: %+v", got)
	}
	s := Defaults().Scaled(0.01)
	if s.LoginIP.Period != 6*time.Second || s.LoginIP.Limit != 30 || s.LoginIP.Name != "login-ip" {
		t.Errorf("LoginIP scaled = %+v", s.LoginIP)
	}
	all, def := s.All(), Defaults().All()
	for i, r := range all {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if r.Period >= def[i].Period {
			t.Errorf("%s not scaled: %s", r.Name, r.Period)
		}
	}
	if tiny := Defaults().Scaled(1e-9); tiny.LoginAccount.Period != time.Millisecond {
		t.Errorf("periods must not drop below 1ms: %s", tiny.LoginAccount.Period)
	}
	b := DefaultBackoff().Scaled(1.0 / 30)
	if b.BaseLock != time.Second || b.MaxLock != 30*time.Second || b.ForgetAfter != 2*time.Minute || b.FreeFailures != 5 {
		t.Errorf("backoff scaled = %+v", b)
	}
	if err := b.Validate(); err != nil {
		t.Error(err)
	}
	if DefaultBackoff().Scaled(1) != DefaultBackoff() {
		t.Error("Scaled(1) changed the backoff")
	}
}
