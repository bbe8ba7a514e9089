package postgres_test

import "time"

var storetestNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
