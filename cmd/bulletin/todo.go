package main

import (
	"context"
	"errors"
)

func runServe(context.Context, *cliEnv, []string) error { return errors.New("todo") }
