package main

import "fmt"

const (
	defaultRegion = "eu-west-1"
	squareToken   = "EAAAAujGcIAyo1GE45xuksomzQCpjrgvrG9gh84P22G2_28a5qm8JauRzAthPOtC"
	githubPAT     = "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"
)

func main() {
	password := readPassword()
	fmt.Println(len(password))
}
