package main

import (
	"context"
	"errors"
)

func runDigest(context.Context, *cliEnv, []string) error      { return errors.New("todo") }
func runSubscribers(context.Context, *cliEnv, []string) error { return errors.New("todo") }
func runServe(context.Context, *cliEnv, []string) error       { return errors.New("todo") }
